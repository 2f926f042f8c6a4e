"""The SmallPose evaluator: COCO-exact OKS AP/AR, size and density buckets, surprise."""
