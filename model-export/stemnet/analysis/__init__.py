"""Analyses behind the benchmark report: comparable subsets (the STEM paper's Figure 1) and gate weights."""
