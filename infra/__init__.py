"""Deployment as code: the CloudFormation/SAM stack generated from the application itself.

Nothing here is shipped to Lambda (Chalice packages ``app.py`` and
``chalicelib/`` only).  ``python -m infra.build`` writes a merge template
(tables from ``chalicelib.models.ALL_MODELS``, queues from
``chalicelib.resources.queue_specs``, the player bucket and its CDN, an
optional fixed egress IP), runs ``chalice package`` with it and post-processes
the result (SQS partial batch responses, per-function settings and
least-privilege roles derived from what each function's code imports).
``python -m infra.deploy`` deploys that template.  See ``docs/deploy.md``.
"""
