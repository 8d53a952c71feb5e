"""Wire models: what the servers answer, typed, shared by api/, domain/, state/ and ui/.

No client, no httpx, no Textual: importing these loads only msgspec.
"""
