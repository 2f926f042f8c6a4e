"""Baseline pose models (SimpleBaseline, HRNet, SimCC, RLE, ViTPose, CAL, ...).

Not implemented yet: no open issue asks for them in this release. ``smallpose train`` and
``smallpose predict`` say so instead of pretending.
"""
