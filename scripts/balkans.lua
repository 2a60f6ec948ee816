-- balkans.lua — the Western Balkans watch list.
--
-- Watches French and English press releases for the region and for the
-- officials an analyst follows. Every name is listed in the forms sources
-- really use: French and English, with and without diacritics ("Vučić",
-- "Vucic"); the matcher also ignores case and accents and only matches
-- whole words ("Ruge" is not found in "Rugerio", "KFOR" not in "KFORCE").
-- A matching item is stored with the names it mentions as tags, and an
-- alert goes to the webhook named "analyst" with those names.
--
-- Try it: vigie test -s scripts/balkans.lua tests/fixtures/rules/*.rss

-- { name used in tags and alerts, { forms to look for } }
local WATCH = {
  -- the region
  { "Western Balkans",        { "Western Balkans", "Balkans occidentaux" } },
  { "Bosnia and Herzegovina", { "Bosnie-Herzégovine", "Bosnie-Herzegovine",
                                "Bosnia and Herzegovina", "Bosnia-Herzegovina" } },
  { "Kosovo",                 { "Kosovo" } },
  { "KFOR",                   { "KFOR" } },
  { "Mitrovica",              { "Mitrovica", "Mitrovicë" } },
  { "Pristina",               { "Pristina", "Priština", "Prishtina", "Prishtinë" } },
  -- the officials
  { "Boris Ruge",             { "Boris Ruge" } },
  { "Aleksandar Vučić",       { "Vučić", "Vucic" } },
  { "Marko Đurić",            { "Đurić", "Djuric", "Duric" } },
  { "Elmedin Konaković",      { "Konaković", "Konakovic" } },
}

-- One matcher for every form; each form remembers the name it stands for.
local forms, name_of = {}, {}
for _, entry in ipairs(WATCH) do
  for _, form in ipairs(entry[2]) do
    forms[#forms + 1] = form
    name_of[form] = entry[1]
  end
end
local matcher = vigie.keywords(forms)

-- The names mentioned in `text`, each once, in order of first mention.
local function names_in(text)
  local names, seen = {}, {}
  for _, form in ipairs(matcher:match(text)) do
    local name = name_of[form]
    if not seen[name] then
      seen[name] = true
      names[#names + 1] = name
    end
  end
  return names
end

function on_item(item)
  -- title and summary are plain text; content is HTML (its links and
  -- attributes would give false hits), so it is left out.
  local names = names_in(item.title .. "\n" .. item.summary)
  if #names == 0 then return end
  vigie.store(item, { tags = names })
  local source = item.feed.name ~= "" and item.feed.name or item.feed.title
  vigie.alert("analyst", {
    text = "[" .. table.concat(names, ", ") .. "] " .. item.title,
    keywords = names,
    title = item.title,
    link = item.link,
    source = source,
    published = item.published,
  })
end
