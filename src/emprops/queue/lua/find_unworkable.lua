-- find_unworkable: pending jobs (the best `scan` of each service) that no live worker matches.
-- Read-only: a report, so that a job nobody can run is seen instead of silently starved.
-- KEYS: workers, services
-- ARGV: prefix, live_since_ms, scan
local workers = {}
for _, wid in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[2], '+inf')) do
  local caps = redis.call('HGET', PREFIX .. 'worker:' .. wid, 'caps')
  if caps then workers[#workers + 1] = cjson.decode(caps) end
end
local out = {}
for _, service in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local members = redis.call('ZRANGE', PREFIX .. 'pending:' .. service, 0, tonumber(ARGV[3]) - 1)
  for _, member in ipairs(members) do
    local id = string.sub(member, 18)
    local f = redis.call('HMGET', PREFIX .. 'job:' .. id, 'service_required', 'customer_id',
      'workflow_id', 'requirements')
    local view, ok = job_view(id, f), false
    for _, caps in ipairs(workers) do
      if matches(caps, view) then ok = true break end
    end
    if not ok then out[#out + 1] = id end
  end
end
return out
