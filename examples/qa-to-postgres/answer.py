"""Pipeline 1 (answer): for each question of a CSV, the sentence of its context closest in meaning.

Reads /pfs/questions/<file>.csv (columns id, question, context) and writes /pfs/out/<file>.csv with columns
source, id, question, answer, score: an extractive answer, the context sentence whose all-MiniLM-L6-v2
embedding has the highest cosine similarity with the question's.
"""
import csv
import glob
import os
import re
import sys

from minilm import MiniLM


def sentences(text):
    parts = re.split(r"(?<=[.!?])\s+", text.strip())
    return [p.strip() for p in parts if p.strip()]


def main(in_dir, out_dir):
    model = MiniLM()
    files = sorted(glob.glob(os.path.join(in_dir, "**", "*.csv"), recursive=True))
    for path in files:
        source = os.path.splitext(os.path.basename(path))[0]
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
        out_path = os.path.join(out_dir, source + ".csv")
        with open(out_path, "w", newline="") as f:
            out = csv.writer(f)
            out.writerow(["source", "id", "question", "answer", "score"])
            for row in rows:
                candidates = sentences(row["context"])
                if not candidates:
                    out.writerow([source, row["id"], row["question"], "", "0"])
                    continue
                q = model.encode([row["question"]])
                s = model.encode(candidates)
                sims = (s @ q[0]).tolist()
                best = max(range(len(candidates)), key=lambda i: sims[i])
                out.writerow([source, row["id"], row["question"], candidates[best], f"{sims[best]:.4f}"])
        print(f"answered {len(rows)} question(s) of {source}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/pfs/questions", sys.argv[2] if len(sys.argv) > 2 else "/pfs/out")
