"""Data access, one module per aggregate (accounts, units, screens, ...).

Services ask a repository here for the items they need and get domain values
back: a finder returns ``None`` (or raises the domain's not-found error) where
pynamodb would raise ``DoesNotExist``, so no service catches pynamodb
exceptions.  Each module imports only its own aggregate's models because
``infra.access`` grants a function every table its imports name: a module
spanning aggregates would widen every role that imports it.
"""
