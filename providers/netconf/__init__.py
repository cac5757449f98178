"""The platform's network configuration as systemd-networkd units (docs/providers.md).

One converter per platform format (`debian`, `openstack`, `vmware`, `packet`), each a pure
function from the platform's data to a list of links and positioned problems (`model`);
`render` turns the links into `.network` and `.netdev` texts; `stored` is the form the
cache keeps and the one entry point the fetch and `ccgen apply` call.
"""
