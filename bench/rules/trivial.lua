-- trivial.lua — the cheapest rule: what bench/match.sh measures as the
-- worker's fixed cost per item (encoding, the socket, the Lua item table,
-- the call).
function on_item(it) end
