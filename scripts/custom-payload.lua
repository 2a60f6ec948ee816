-- custom-payload.lua — an alert whose webhook body the rule builds itself.
--
-- Security advisories that name a CVE or a kind of attack go to the webhook
-- named "security", as a small JSON document of our own design instead of
-- the default {text = ...}: the receiving end (a ticketing system, say)
-- gets typed fields it can route on. Anything matching only a weaker word
-- is logged, not sent.
--
-- Try it: vigie test -s scripts/custom-payload.lua tests/fixtures/rules/security.rss

local severe = vigie.keywords{
  "remote code execution", "exécution de code à distance",
  "zero-day", "0-day", "actively exploited", "activement exploitée",
  "ransomware", "rançongiciel",
}
local weak = vigie.keywords{ "vulnerability", "vulnérabilité", "patch", "correctif" }

-- CVE identifiers, in the order they appear, each once. vigie.array makes
-- the list a JSON list even when it is empty ([] rather than {}).
local function cves(text)
  local list, seen = vigie.array(), {}
  for id in text:gmatch("CVE%-%d%d%d%d%-%d%d%d%d+") do
    if not seen[id] then
      seen[id] = true
      list[#list + 1] = id
    end
  end
  return list
end

function on_item(item)
  local text = item.title .. "\n" .. item.summary
  local hits, ids = severe:match(text), cves(text)
  if #hits == 0 and #ids == 0 then
    local maybe = weak:match(text)
    if #maybe > 0 then
      vigie.log("info", "not urgent (%s): %s", table.concat(maybe, ", "), item.title)
    end
    return
  end
  vigie.alert("security", {
    schema = "vigie.advisory/1",
    severity = #hits > 0 and "high" or "medium",
    summary = item.title,
    url = item.link,
    cves = ids,
    matched = hits,
    source = { feed = item.feed.title, url = item.feed.url },
    published = item.published_ts,
  })
end
