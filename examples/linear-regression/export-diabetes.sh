#!/usr/bin/env bash
# Writes data/diabetes.csv: the diabetes data set (Efron, Hastie, Johnstone and Tibshirani, "Least Angle
# Regression", 2004; 442 patients, 10 baseline variables and a measure of disease progression one year later), in
# its original units, exported from the copy scikit-learn ships (sklearn/datasets/data/diabetes_data_raw.csv.gz
# and diabetes_target.csv.gz) in its PyPI wheel. The CSV is shipped in this folder; this script is how it was made.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps --only-binary :all: -d "$tmp" scikit-learn
python3 - "$tmp"/scikit_learn-*.whl "$here/data/diabetes.csv" <<'PY'
import gzip, sys, zipfile
wheel, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    x = gzip.decompress(z.read("sklearn/datasets/data/diabetes_data_raw.csv.gz")).decode().split("\n")
    y = gzip.decompress(z.read("sklearn/datasets/data/diabetes_target.csv.gz")).decode().split("\n")
rows = [r.split() for r in x if r.strip()]
target = [str(int(float(t))) for t in y if t.strip()]
assert len(rows) == len(target) == 442 and all(len(r) == 10 for r in rows)
with open(out, "w") as f:
    f.write("age,sex,bmi,bp,s1,s2,s3,s4,s5,s6,progression\n")
    for r, t in zip(rows, target):
        f.write(",".join(r + [t]) + "\n")
print(f"wrote {out}: {len(rows)} rows")
PY
