-- store-all.lua — keep every new item in the archive.
--
-- Nothing is sent anywhere: items only become searchable with
-- `vigie search`. The feed's own categories become the item's tags (the
-- first 16, as written by the feed).
--
-- Try it: vigie test -s scripts/store-all.lua tests/fixtures/rules/*.rss

local MAX_TAGS = 16

function on_item(item)
  local tags = {}
  for _, category in ipairs(item.categories) do
    if #tags == MAX_TAGS then break end
    if category ~= "" and #category <= 256 then tags[#tags + 1] = category end
  end
  vigie.store(item, { tags = tags })
end
