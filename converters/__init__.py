"""Converters from each source's native annotation format to the unified SmallPose rows."""
