"""The language: what a cloud-config means.

The key table (schema.py), checking nodes against it (validate.py), the typed model
(model.py) and building it (build.py), substitution of $public_ipv4 & co. (subst.py),
composite user-data (userdata.py: MIME parts, #include and gzip'd scripts, each compiled and
merged) and the table exported as JSON Schema and Markdown (export.py).

Takes node trees; gives one merged, immutable CloudConfig and its diagnostics.
May import: ccgen.bootpath, ccgen.base, ccgen.read.  Nothing from rendering.
"""
