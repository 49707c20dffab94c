#!/usr/bin/env python3
"""Module dependency cycles among src/*.rs (top-level core modules; ffi counted as one)."""
import re, sys, subprocess, itertools
rev = sys.argv[1] if len(sys.argv) > 1 else None
def files():
    if rev:
        out = subprocess.check_output(['git','ls-tree','-r','--name-only',rev,'src'], text=True).split()
        return {f: subprocess.check_output(['git','show',f'{rev}:{f}'], text=True) for f in out if f.endswith('.rs')}
    import glob
    return {f: open(f).read() for f in glob.glob('src/**/*.rs', recursive=True)}
def mod_of(f):
    p = f[len('src/'):-3].split('/')
    return 'ffi' if p[0]=='ffi' else p[0]
fs = files()
mods = {mod_of(f) for f in fs} - {'lib'}
deps = {m: set() for m in mods}
for f, s in fs.items():
    m = mod_of(f)
    if m == 'lib': continue
    for d in re.findall(r'crate::(\w+)', s):
        if d in mods and d != m: deps[m].add(d)
    for grp in re.findall(r'use crate::\{([^}]*)\}', s):
        for d in re.findall(r'\b(\w+)', grp):
            if d in mods and d != m: deps[m].add(d)
# strongly connected components (Tarjan)
idx, low, st, on, sccs, c = {}, {}, [], set(), [], [0]
def sc(v):
    idx[v]=low[v]=c[0]; c[0]+=1; st.append(v); on.add(v)
    for w in deps[v]:
        if w not in idx: sc(w); low[v]=min(low[v],low[w])
        elif w in on: low[v]=min(low[v],idx[w])
    if low[v]==idx[v]:
        comp=[]
        while True:
            w=st.pop(); on.discard(w); comp.append(w)
            if w==v: break
        if len(comp)>1: sccs.append(sorted(comp))
for v in sorted(mods):
    if v not in idx: sc(v)
pairs = sorted({tuple(sorted((a,b))) for a in deps for b in deps[a] if a in deps[b]})
print(f"{rev or 'worktree'}: {len(pairs)} two-module cycles {pairs}; cyclic groups: {sccs}")
