"""STEM-Net: shared and task-specific embeddings for multi-task ranking (AAAI 2024)."""
