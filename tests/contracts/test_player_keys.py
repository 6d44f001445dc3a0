"""Player keys: one format when minted, any stored hash accepted when checked."""

from __future__ import annotations

import hashlib

from chalicelib.contracts import player_keys


def test_minted_keys_have_the_prefix_and_their_hash():
    first, second = player_keys.mint(), player_keys.mint()
    assert first.key.startswith("psk_") and len(first.key) == 4 + 32 and first.key != second.key
    assert first.key_hash == hashlib.sha256(first.key.encode()).hexdigest()
    assert player_keys.matches(first.key, first.key_hash)
    assert not player_keys.matches(second.key, first.key_hash)


def test_missing_hash_empty_or_oversized_key_never_match():
    key, key_hash = player_keys.mint()
    assert not player_keys.matches(key, None) and not player_keys.matches(key, "")
    assert not player_keys.matches(None, key_hash) and not player_keys.matches("", key_hash)
    long_key = "x" * (player_keys.MAX_LENGTH + 1)
    assert not player_keys.matches(long_key, player_keys.hash_key(long_key))
