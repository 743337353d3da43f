from pathlib import Path

from stemnet.config import load_config

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def test_paper_config_holds_the_papers_and_the_authors_stem_settings():
    """The values configs/paper.yaml cites: the paper's section 5.1 and the authors' STEM_TiktokLarge config."""
    config = load_config(CONFIGS / "paper.yaml")
    model, train = config.model, config.train
    assert model.architecture == "stem_net"
    assert (model.embedding_dim, model.num_shared_experts, model.num_task_experts) == (16, 8, 1)
    assert (model.expert_hidden, model.gate_hidden, model.tower_hidden) == ([512, 512, 512], [128, 64], [128, 64])
    assert (train.batch_size, train.learning_rate, train.embedding_l2) == (4096, 1.0e-3, 1.0e-6)
    assert (train.epochs, train.patience, train.min_count, train.seed) == (20, 1, 10, 2023)
