"""The suite's chart: chainrule / torch per workload as horizontal bars, each with its target marked."""
import os
import textwrap


def draw(results, path):
    """Draw every chainrule / torch result (time and memory) into the PNG at ``path``; returns ``path``."""
    import matplotlib
    matplotlib.use("Agg")  # no display: the chart is a file
    import matplotlib.pyplot as plt

    results = [r for r in results if r.against_torch]
    labels = [textwrap.fill(r.workload, 48) for r in results]
    fig, ax = plt.subplots(figsize=(9, 1.2 + 0.75 * max(len(results), 1)))
    ys = list(range(len(results)))[::-1]  # the first result on top
    colors = ["#3a923a" if r.met else "#d0452f" for r in results]
    ax.barh(ys, [r.ratio for r in results], color=colors, height=0.6)
    ax.scatter([r.target for r in results], ys, marker="|", s=900, linewidths=2.5, color="black", zorder=3,
               label="target (at most)")
    for y, r in zip(ys, results):
        ax.annotate(f"{r.ratio:.2f}", (max(r.ratio, r.target), y), xytext=(8, 0), textcoords="offset points",
                    va="center", fontsize=9)
    ax.axvline(1.0, color="grey", linestyle="--", linewidth=1, label="as fast as PyTorch")
    ax.set_yticks(ys, labels, fontsize=8)
    ax.set_xlabel("chainrule / PyTorch (time or peak memory; lower is better)\ngreen: target met, red: missed")
    ax.set_xlim(0, max([r.ratio for r in results] + [r.target for r in results] + [1.0]) * 1.15)
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title("chainrule against PyTorch (CPU, 2 threads)")
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
