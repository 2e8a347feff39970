#!/usr/bin/env bash
# Prints the path of a virtualenv with Jupyter's nbconvert, an IPython kernel, pandas and matplotlib, making it
# the first time (PyPI through pip; about a minute) and reusing it afterwards. Its place: $PFS_EXAMPLES_VENV, else
# ${XDG_CACHE_HOME:-~/.cache}/pfs-examples/venv. A venv whose requirements changed, or that cannot import them,
# is made again.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${PFS_EXAMPLES_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/pfs-examples/venv}"
req="$here/requirements.txt"
stamp="$venv/.pfs-requirements"
if [ -x "$venv/bin/python" ] && cmp -s "$req" "$stamp" &&
   "$venv/bin/python" -c 'import nbconvert, ipykernel, pandas, matplotlib' 2>/dev/null; then
  echo "$venv"; exit 0
fi
echo "notebook: making the virtualenv $venv (jupyter nbconvert, ipykernel, pandas, matplotlib)" >&2
rm -rf "$venv"
mkdir -p "$(dirname "$venv")"
py=/usr/bin/python3; [ -x "$py" ] || py="$(command -v python3)"
"$py" -m venv "$venv" >&2 || { echo "notebook: python3 -m venv failed; install python3-venv (scripts/install-deps.sh --test)" >&2; exit 1; }
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" >&2
cp "$req" "$stamp"
echo "$venv"
