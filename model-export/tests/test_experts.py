import torch

from stemnet.models.base import mlp
from stemnet.models.experts import ExpertGroup


def test_a_group_computes_what_its_experts_would_one_by_one():
    torch.manual_seed(0)
    group = ExpertGroup(in_dim=12, hidden=[8, 6, 5], count=3)
    x = torch.randn(7, 12)
    outputs = group(x)
    assert outputs.shape == (3, 7, 5)
    for k in range(3):
        expert = mlp(12, [8, 6, 5])
        with torch.no_grad():
            expert[0].weight.copy_(group.first.weight[k * 8:(k + 1) * 8])
            expert[0].bias.copy_(group.first.bias[k * 8:(k + 1) * 8])
            for layer, (weight, bias) in zip((expert[2], expert[4]), zip(group.weights, group.biases)):
                layer.weight.copy_(weight[k].t())
                layer.bias.copy_(bias[k, 0])
        torch.testing.assert_close(outputs[k], expert(x))


def test_an_expert_is_trained_only_by_the_outputs_it_produced():
    torch.manual_seed(0)
    group = ExpertGroup(in_dim=4, hidden=[3, 3], count=2)
    group(torch.randn(5, 4))[1].sum().backward()
    assert group.first.weight.grad[:3].abs().sum() == 0
    assert group.first.weight.grad[3:].abs().sum() > 0
    assert group.weights[0].grad[0].abs().sum() == 0
    assert group.weights[0].grad[1].abs().sum() > 0
