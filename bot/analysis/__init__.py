"""Failure classes, fault localization and root-cause notes."""
