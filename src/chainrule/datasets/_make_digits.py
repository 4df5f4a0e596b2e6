"""Build data/digits.npz from scikit-learn's copy of the UCI digits (run once by a maintainer; not imported).

    python src/chainrule/datasets/_make_digits.py [path/to/digits.csv.gz]

The CSV has one image per row: 64 pixel counts (0..16, row-major 8x8) then the label. The output holds
``images`` uint8 (1797, 8, 8) and ``labels`` uint8 (1797,), compressed, readable with allow_pickle=False."""
import gzip
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def sklearn_csv():
    import sklearn  # only this maintenance script needs scikit-learn
    return os.path.join(os.path.dirname(sklearn.__file__), "datasets", "data", "digits.csv.gz")


def main(source=None):
    source = source or sklearn_csv()
    with gzip.open(source, "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.int64)
    if table.shape != (1797, 65) or table.min() < 0 or table[:, :64].max() > 16 or table[:, 64].max() > 9:
        raise ValueError(f"{source}: unexpected contents (shape {table.shape}); expected 1797 rows of 64 pixels "
                         "in 0..16 and a label in 0..9")
    images = table[:, :64].astype(np.uint8).reshape(-1, 8, 8)
    labels = table[:, 64].astype(np.uint8)
    target = os.path.join(HERE, "data", "digits.npz")
    np.savez_compressed(target, images=images, labels=labels)
    print(f"wrote {target} ({os.path.getsize(target)} bytes) from {source}")


if __name__ == "__main__":
    main(*sys.argv[1:])
