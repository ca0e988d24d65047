#!/usr/bin/env bash
# Install the peer tools that the benchmarks compare iondyn with into a SEPARATE virtual
# environment (benchmarks/.peers-venv), never into the project's .venv. iondyn itself is
# installed there too (editable), so one interpreter runs both sides on the same data.
#
#   bash benchmarks/setup_peers.sh          # then: benchmarks/.peers-venv/bin/python benchmarks/bench_peaks.py
#
# Peers: EMPeaks 3.0.0 (SAEM reference, BSD-3), impedance.py 1.7.1 (MIT), pyDRTtools 0.2 (MIT).
# pyimpspec 5.2 needs Python >= 3.12 and is GPL-3: installed only when python3.12 exists, into
# its own venv (benchmarks/.peers312-venv), and only driven through a subprocess.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
venv="$here/.peers-venv"
PYTHON="${PYTHON:-python3}"

if [ ! -x "$venv/bin/python" ]; then
  "$PYTHON" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --upgrade pip
# impedance.py 1.7.1 imports pandas without declaring it and its linKK breaks on NumPy 2;
# pyDRTtools declares none of its numerical dependencies (numpy, scipy, cvxopt, pandas,
# matplotlib) and imports a Qt GUI at package import, hence PyQt5 and an offscreen platform.
"$venv/bin/python" -m pip install --quiet \
  "numpy<2" "scipy<1.14" pandas matplotlib cvxopt scikit-learn \
  "empeaks==3.0.0" "impedance==1.7.1" "pydrttools==0.2" || {
    echo "setup_peers: installing the peers failed (see above)" >&2; exit 1; }
"$venv/bin/python" -m pip install --quiet PyQt5 || echo "setup_peers: PyQt5 not installed; pyDRTtools may not import" >&2
# MD peers (bench_md.py): kinisi 1.1.1 (MIT; installs with NumPy < 2, which impedance.py needs;
# kinisi 2.x requires NumPy >= 2) and ASE (LGPL-2.1) to read kinisi's example XDATCAR.
"$venv/bin/python" -m pip install --quiet "numpy<2" "scipy<1.14" "kinisi==1.1.1" ase \
  || echo "setup_peers: kinisi/ASE not installed; bench_md.py then uses kinisi's recorded figures" >&2
# Map peers (bench_maps.py): HyperSpy 2.5 (GPL-3.0, multifit given the true start); scikit-learn
# (NMF given K) is installed above.
"$venv/bin/python" -m pip install --quiet "hyperspy==2.5.0" \
  || echo "setup_peers: HyperSpy not installed; bench_maps.py then runs iondyn and scikit-learn only" >&2
"$venv/bin/python" -m pip install --quiet -e "$root" || {
    echo "setup_peers: installing iondyn into the peers venv failed" >&2; exit 1; }

# a Python >= 3.12 for pyimpspec: PY312 if given, else python3.12 on PATH, else pyenv's
py312="${PY312:-}"
if [ -z "$py312" ] && PYENV_VERSION=3.12.1 python3.12 -c "" >/dev/null 2>&1; then
  py312="env PYENV_VERSION=3.12.1 python3.12"
elif [ -z "$py312" ] && command -v python3.12 >/dev/null 2>&1 && python3.12 -c "" 2>/dev/null; then
  py312="python3.12"
fi
if [ -n "$py312" ]; then
  v312="$here/.peers312-venv"
  if [ ! -x "$v312/bin/python" ]; then $py312 -m venv "$v312" || true; fi
  if [ -x "$v312/bin/python" ]; then
    "$v312/bin/python" -m pip install --quiet "pyimpspec==5.2.0" \
      || echo "setup_peers: pyimpspec not installed (optional)" >&2
  fi
fi
echo "peers installed in $venv"
"$venv/bin/python" -c "import kinisi, ase; print('  kinisi', kinisi.__version__, '/ ase', ase.__version__)" \
  || echo "  kinisi / ase NOT importable (bench_md.py uses recorded kinisi figures)"
"$venv/bin/python" - <<'PY'
import importlib
for name in ("EMPeaks", "impedance", "pyDRTtools", "iondyn"):
    try:
        m = importlib.import_module(name)
        print(f"  {name:12s} {getattr(m, '__version__', 'ok')}")
    except Exception as exc:  # report, do not fail: benchmarks skip what is missing
        print(f"  {name:12s} NOT importable: {type(exc).__name__}: {exc}")
PY
