"""Losses on embeddings, registered by name (torch is imported only when one is used).

Every loss declares the data it expects (`expects`): ``binary_pairs`` (a, b, label in {0,1}),
``scored_pairs`` (a, b, score), ``triplets`` (anchor, positive, negative), ``labelled`` (x, label) or
``positive_pairs`` (a, b). :func:`simlab.train.fit` checks this before the first step.
"""

from simlab.registry import LOSSES

_M = "simlab.losses.core"
LOSSES.register(
    "contrastive",
    f"{_M}:ContrastiveLoss",
    help="margin contrastive loss on Euclidean distance (binary pairs)",
)
LOSSES.register(
    "mse",
    f"{_M}:ScoreMSELoss",
    aliases=("regression",),
    help="MSE of the head's score vs a target score (MaLSTM)",
)
LOSSES.register("cosent", f"{_M}:CoSENTLoss", help="CoSENT ranking loss on scored pairs")
LOSSES.register(
    "triplet",
    f"{_M}:TripletLoss",
    help=(
        "triplet margin loss on labelled data; the Siamese model mines batch-all "
        "(loss_options mining=hard: batch-hard)"
    ),
)
LOSSES.register(
    "infonce",
    f"{_M}:InfoNCELoss",
    aliases=("in_batch_negatives", "mnrl"),
    help="in-batch negatives (InfoNCE)",
)

DATA_KINDS = ("binary_pairs", "scored_pairs", "triplets", "labelled", "positive_pairs")
