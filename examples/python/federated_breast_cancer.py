#!/usr/bin/env python3
"""Three hospitals train one PyTorch model on breast-cancer data they never pool.

The Wisconsin diagnostic breast-cancer data set (569 tumours, 30 features, malignant or benign)
ships with scikit-learn (`load_breast_cancer`, no download). A fifth of it is held out as a
common test set; the rest is split across three hospitals *non-identically*: hospital A sees
mostly malignant cases, B mostly benign ones, C a mix, and they differ in size.

Each hospital trains a small network on its own patients for one epoch per round, then averages
it with the others' in one line, `fedavg.update_model(model, weight=n_k)`, where n_k is its
number of patients. The script does that three ways and prints a table per round:

  SecureFedAvg  the average by masked aggregation: no server sees another hospital's model;
  PlainFedAvg   the same average sent in clear (the INSECURE baseline, to compare against);
  central       one model trained on the pooled data (what a single data lake would give).

Features are standardised with the pooled mean and standard deviation, which the hospitals get
the federated way too: each averages its own per-feature mean and mean of squares, weighted by
its size, through SecureFedAvg (`tessera.secure_fedavg`), so no hospital reveals its own.

    # three servers, then the three hospitals (threads of this process, each with its own server):
    npx tessera serve --port 55501 & npx tessera serve --port 55502 & npx tessera serve --port 55503 &
    python3 examples/python/federated_breast_cancer.py --rounds 20 --plot curves.png

Needs Debian's python3-torch, python3-sklearn, python3-matplotlib (for --plot) and the tessera
package (clients/python-tessera).
"""

import argparse
import json
import sys
import threading
import time
import uuid as uuid_module

import numpy as np
import torch
from sklearn.datasets import load_breast_cancer

import tessera

HOSPITALS = ["A", "B", "C"]
# P(hospital | label): sklearn's target is 0 = malignant, 1 = benign.
SPLIT = {0: [0.6, 0.1, 0.3], 1: [0.1, 0.55, 0.35]}


def split(seed):
    """(train parts per hospital, test set) as float32 arrays, seeded."""
    data = load_breast_cancer()
    x, y = data.data.astype(np.float64), data.target.astype(np.float32)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(y))
    test = order[: len(y) // 5]
    train = order[len(y) // 5:]
    owners = np.array([rng.choice(3, p=SPLIT[int(y[i])]) for i in train])
    parts = [(x[train[owners == h]], y[train[owners == h]]) for h in range(3)]
    return parts, (x[test], y[test])


def make_model(seed):
    torch.manual_seed(seed)  # every hospital starts from the same initial model, as agreed
    return torch.nn.Sequential(torch.nn.Linear(30, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))


def train_epoch(model, optimizer, x, y, batch, generator):
    model.train()
    order = torch.randperm(len(y), generator=generator)
    for start in range(0, len(y), batch):
        index = order[start:start + batch]
        optimizer.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(model(x[index]).squeeze(1), y[index])
        loss.backward()
        optimizer.step()


def evaluate(model, x, y):
    model.eval()
    with torch.no_grad():
        logits = model(x).squeeze(1)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, y).item()
        accuracy = ((logits > 0).float() == y).float().mean().item()
    return loss, accuracy


def standardiser(parts, network_for, federated):
    """Pooled per-feature mean and standard deviation; federated: through SecureFedAvg."""
    if not federated:
        pooled = np.concatenate([x for x, _ in parts])
        return pooled.mean(axis=0), pooled.std(axis=0)
    out = [None] * len(parts)
    errors = []

    def hospital(h):
        try:
            x = parts[h][0]
            moments = {"mean": x.mean(axis=0), "mean_of_squares": (x ** 2).mean(axis=0)}
            out[h] = tessera.secure_fedavg(moments, weight=len(x), network=network_for(h, "moments"))
        except Exception as error:  # noqa: BLE001 - reported below, with the hospital
            errors.append((HOSPITALS[h], error))

    run_threads(hospital, len(parts))
    if errors:
        raise RuntimeError("hospital %s: %s" % errors[0])
    mean, squares = out[0]["mean"], out[0]["mean_of_squares"]
    return mean, np.sqrt(np.maximum(squares - mean ** 2, 0.0))


def run_threads(target, count):
    threads = [threading.Thread(target=target, args=(h,)) for h in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def federated(mode, parts, test, args, nodes):
    """Rounds of local training + update_model at every hospital; per-round metrics of hospital A's
    model (after averaging every hospital holds the same model) on the common test set."""
    base = "breast-cancer-%s-%s" % (mode, uuid_module.uuid4())

    def network_for(h, purpose):
        return tessera.Network(nodes, "%s-%s" % (base, purpose), h)

    mean, std = standardiser(parts, network_for, federated=True)
    xs = [torch.tensor((x - mean) / std, dtype=torch.float32) for x, _ in parts]
    ys = [torch.tensor(y) for _, y in parts]
    x_test = torch.tensor((test[0] - mean) / std, dtype=torch.float32)
    y_test = torch.tensor(test[1])
    models = [make_model(args.seed) for _ in parts]
    history = [None] * args.rounds
    errors = []

    def hospital(h):
        try:
            model = models[h]
            optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
            generator = torch.Generator().manual_seed(args.seed + h)
            fedavg = tessera.FedAvgClient(network_for(h, "rounds"), weight=len(ys[h]), microprotocol=mode,
                                          prepare_next=mode == "SecureFedAvg", rounds=args.rounds,
                                          timeout=120)
            for r in range(args.rounds):
                train_epoch(model, optimizer, xs[h], ys[h], args.batch, generator)
                started = time.monotonic()
                fedavg.update_model(model)  # the one line: every hospital now holds the average
                if h == 0:
                    history[r] = evaluate(model, x_test, y_test) + (time.monotonic() - started,)
            fedavg.close()
        except Exception as error:  # noqa: BLE001 - reported with the hospital
            errors.append((HOSPITALS[h], error))

    run_threads(hospital, len(parts))
    if errors:
        raise RuntimeError("hospital %s: %s" % errors[0])
    return history


def central(parts, test, args):
    x = np.concatenate([x for x, _ in parts])
    y = np.concatenate([y for _, y in parts])
    mean, std = x.mean(axis=0), x.std(axis=0)
    xt, yt = torch.tensor((x - mean) / std, dtype=torch.float32), torch.tensor(y)
    x_test = torch.tensor((test[0] - mean) / std, dtype=torch.float32)
    y_test = torch.tensor(test[1])
    model = make_model(args.seed)
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    generator = torch.Generator().manual_seed(args.seed)
    history = []
    for _ in range(args.rounds):
        train_epoch(model, optimizer, xt, yt, args.batch, generator)
        history.append(evaluate(model, x_test, y_test) + (0.0,))
    return history


def plot(results, path):
    """Loss and accuracy per round, the three runs side by side (PNG, or SVG by the file name)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for name, rows in results.items():
        rounds = range(1, len(rows) + 1)
        style = {"SecureFedAvg": "-", "PlainFedAvg": "--", "central": ":"}[name]
        axes[0].plot(rounds, [r[0] for r in rows], style, label=name)
        axes[1].plot(rounds, [r[1] for r in rows], style, label=name)
    for ax, title in zip(axes, ("test loss", "test accuracy")):
        ax.set_title(title + " per round")
        ax.set_xlabel("round")
        ax.legend()
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nodes", default="http://127.0.0.1:55501,http://127.0.0.1:55502,http://127.0.0.1:55503")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--plot", default=None, help="write the curves to this .png or .svg")
    parser.add_argument("--json", default=None, help="write the per-round numbers to this file")
    args = parser.parse_args(argv)
    nodes = [n.strip() for n in args.nodes.split(",") if n.strip()]
    if len(nodes) != 3:
        parser.error("--nodes needs three server URLs, one per hospital")
    torch.set_num_threads(1)  # three hospitals share this process: one core each is plenty

    parts, test = split(args.seed)
    print("patients per hospital (malignant/benign):",
          ", ".join("%s %d (%d/%d)" % (HOSPITALS[h], len(y), int((y == 0).sum()), int((y == 1).sum()))
                    for h, (_, y) in enumerate(parts)), "; test set %d" % len(test[1]))
    results = {
        "SecureFedAvg": federated("SecureFedAvg", parts, test, args, nodes),
        "PlainFedAvg": federated("PlainFedAvg", parts, test, args, nodes),
        "central": central(parts, test, args),
    }
    print("%5s | %-24s | %-24s | %-15s" % ("round", "SecureFedAvg loss / acc", "PlainFedAvg loss / acc", "central loss / acc"))
    for r in range(args.rounds):
        cells = ["%.4f / %.3f" % results[name][r][:2] for name in results]
        print("%5d | %-24s | %-24s | %-15s" % (r + 1, cells[0], cells[1], cells[2]))
    secure, plain = results["SecureFedAvg"], results["PlainFedAvg"]
    gap = max(abs(a[0] - b[0]) for a, b in zip(secure, plain))
    print("largest loss difference SecureFedAvg vs PlainFedAvg: %.2e" % gap)
    print("seconds per update_model (median): SecureFedAvg %.3f, PlainFedAvg %.3f"
          % (float(np.median([r[2] for r in secure])), float(np.median([r[2] for r in plain]))))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({name: [list(row) for row in rows] for name, rows in results.items()}, f)
    if args.plot:
        plot(results, args.plot)
        print("plot written to", args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
