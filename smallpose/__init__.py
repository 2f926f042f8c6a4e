"""SmallPose: build, score and publish the benchmark for small human pose estimation."""

__version__ = "0.1.0"
