"""The input side: bytes from the machine to positioned node trees.

Every read the compile makes (inputs.py's Reader, recorded for the plan), the units installed
under the root (system.py), what kind of document a user-data is (kinds.py, source.py,
formats.py), MIME parts (mime.py), and YAML composed into nodes (compose.py, nodes.py,
yaml11.py; ccgen.ext is compose.py's compiled fast path).

Gives: documents of a known kind, and node trees with a position on every node.
May import: ccgen.bootpath, ccgen.base, ccgen.ext.
"""
