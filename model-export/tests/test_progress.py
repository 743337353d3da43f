from stemnet.train import EpochProgress


def test_off_a_terminal_progress_is_plain_lines_with_samples_rate_and_loss(capsys):
    progress = EpochProgress(epoch=3, total=4000, every_seconds=0.0, enabled=True)  # pytest's stderr is no terminal
    for _ in range(4):
        progress.step(1000, loss=0.5)
    progress.close()
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert "\r" not in out + err
    assert len(lines) == 4
    assert lines[-1].startswith("epoch 3: 4,000/4,000 samples, ") and lines[-1].endswith("loss 0.5000")
    assert "samples/s" in lines[-1]


def test_other_ranks_print_nothing(capsys):
    progress = EpochProgress(epoch=1, total=10, every_seconds=0.0, enabled=False)
    progress.step(10, loss=1.0)
    assert capsys.readouterr().out == ""
