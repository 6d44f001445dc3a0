"""Who may do what where: the unit tree, users and their grants, console sessions and sign-in, the audit log.

- ``units``: the tree (create, move with the subtree, delete); ``grants``: roles on units reaching their subtree;
- ``users``: admin users, grants and API keys; ``passwords``: scrypt hashes;
- ``sessions``: console cookie sessions; ``sign_in`` / ``sign_in_scan``: scan-to-sign-in, console and WeChat side;
- ``audit``: the audit log written with every admin change.
"""
