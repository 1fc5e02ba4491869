"""Data: reading pairs, validating them, packing them, synthetic pairs, the Grain pipeline."""
