from stemnet.throughput import measure


def test_throughput_counts_every_dense_layer_and_reports_rates(tiny_config):
    result = measure(tiny_config, steps=2, warmup=1)
    # tiny STEM-Net: 8 fields x dim 8 = 64 inputs; 4 experts [32]; 3 gates [16] -> 4; 3 towers [16] -> 1.
    experts = 4 * 64 * 32
    gates = 3 * (64 * 16 + 16 * 4)
    towers = 3 * (32 * 16 + 16 * 1)
    assert result.forward_flops_per_sample == 2 * (experts + gates + towers)
    assert result.samples_per_second > 0 and result.matmul_gflops > 0
    assert result.training_gflops == 3 * result.forward_flops_per_sample * result.samples_per_second / 1e9
