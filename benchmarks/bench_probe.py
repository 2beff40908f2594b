"""The linear probe's cost: a grid of heads one by one with torch.optim.Adam against all at once.

    python benchmarks/bench_probe.py                     # 5 seeds x 12 settings, k = 10, 7 classes, 512 features
    python benchmarks/bench_probe.py --seeds 2 --lrs 2   # a quick run

Both train the same heads (the tests check they agree); the batched version keeps each head's
Adam state in one tensor and steps them together. One process, the machine's torch threads.
"""

from __future__ import annotations

import argparse
import time

import torch

from img2imu_lib.evaluation.probe import ProbeConfig, train_head, train_heads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=5, help="seeds (one head per seed and setting)")
    parser.add_argument("--lrs", type=int, default=4, help="learning rates in the grid")
    parser.add_argument("--decays", type=int, default=3, help="weight decays in the grid")
    parser.add_argument("--shots", type=int, default=10, help="windows per class")
    parser.add_argument("--classes", type=int, default=7)
    parser.add_argument("--features", type=int, default=512, help="feature width (ResNet18: 512)")
    parser.add_argument("--epochs", type=int, default=50)
    args = parser.parse_args()
    generator = torch.Generator().manual_seed(0)
    n = args.shots * args.classes
    features = torch.randn(n, args.features, generator=generator)
    labels = torch.arange(n) % args.classes
    configs = [ProbeConfig(epochs=args.epochs, lr=10.0 ** -(1 + i), weight_decay=[0.0, 1e-4, 1e-3, 1e-2][j % 4], seed=s)
               for s in range(args.seeds) for i in range(args.lrs) for j in range(args.decays)]
    print(f"{len(configs)} heads ({args.seeds} seeds x {args.lrs} rates x {args.decays} decays), {n} shots of "
          f"{args.features} features, {args.epochs} epochs of batch 4; {torch.get_num_threads()} torch threads")
    started = time.perf_counter()
    one_by_one = [train_head(features, labels, classes=args.classes, config=c) for c in configs]
    sequential = time.perf_counter() - started
    started = time.perf_counter()
    heads = train_heads(features.expand(len(configs), -1, -1), labels.expand(len(configs), -1), classes=args.classes,
                        lrs=[c.lr for c in configs], weight_decays=[c.weight_decay for c in configs],
                        seeds=[c.seed for c in configs], epochs=args.epochs)
    batched = time.perf_counter() - started
    gap = max((heads.weight[i] - h.weight.T).abs().max().item() for i, h in enumerate(one_by_one))
    print(f"one by one (torch.optim.Adam)  {sequential:8.2f} s  {sequential / len(configs) * 1e3:8.1f} ms/head")
    print(f"all at once (train_heads)      {batched:8.2f} s  {batched / len(configs) * 1e3:8.1f} ms/head")
    print(f"speed-up {sequential / batched:.1f}x; largest weight difference {gap:.1e}")


if __name__ == "__main__":
    main()
