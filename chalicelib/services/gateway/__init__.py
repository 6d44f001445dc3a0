"""The gateway: what kepuscreen does with each WeChat message or event, exactly once.

- ``engine``: the exactly-once protocol (one read, one transaction, replies kept for retries);
- ``routes``: which wechatpy message or event class goes to which decision, and what it reads;
- ``decisions``: what each message does, over the state the engine loaded;
- ``commands``: the text commands a fan can type; ``replies``: the texts he gets back;
- ``context``: what a decision is given (``Context``) and returns (``Decision``).

Nothing is imported here: the callback function imports only what it runs.
"""
