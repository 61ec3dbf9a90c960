-- claim: pending -> assigned. Scan the best `scan` pending jobs of the worker's services (merged
-- by score, then submission order) and take up to `count` that match its capabilities.
-- KEYS: active, delayed
-- ARGV: prefix, worker_id, caps_json, scan, count, lease_ms
-- Returns {scanned, next_delayed_ms or '', job1_flat, job2_flat, ...}
local worker_id, caps = ARGV[2], cjson.decode(ARGV[3])
local scan, count, lease = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local now = now_ms()

local cands = {}
for _, service in ipairs(caps.services) do
  local top = redis.call('ZRANGE', PREFIX .. 'pending:' .. service, 0, scan - 1, 'WITHSCORES')
  for i = 1, #top, 2 do
    cands[#cands + 1] = {member = top[i], score = tonumber(top[i + 1]), service = service}
  end
end
if #caps.services > 1 then
  table.sort(cands, function(a, b)
    if a.score ~= b.score then return a.score < b.score end
    return a.member < b.member
  end)
end

local out, scanned = {0, ''}, 0
local taken = 0
for i = 1, math.min(#cands, scan) do
  local c = cands[i]
  local job_id = string.sub(c.member, 18)
  local job_key = PREFIX .. 'job:' .. job_id
  local f = redis.call('HMGET', job_key, 'service_required', 'customer_id', 'workflow_id',
    'requirements', 'status', 'last_failed_worker', 'exclude_until')
  scanned = scanned + 1
  if f[5] ~= 'pending' then
    -- A leftover entry (job expired or already moved): drop it so it is not scanned again.
    redis.call('ZREM', PREFIX .. 'pending:' .. c.service, c.member)
  elseif not (f[6] == worker_id and tonumber(f[7] or 0) > now)
      and matches(caps, job_view(job_id, f)) then
    redis.call('ZREM', PREFIX .. 'pending:' .. c.service, c.member)
    local attempt = redis.call('HINCRBY', job_key, 'attempt', 1)
    redis.call('HSET', job_key, 'status', 'assigned', 'worker_id', worker_id,
      'assigned_at', fmt(now))
    redis.call('ZADD', KEYS[1], now + lease, job_id)
    emit(job_id, 'job_claimed', cjson.encode({worker_id = worker_id, attempt = attempt}))
    out[#out + 1] = redis.call('HGETALL', job_key)
    taken = taken + 1
    if taken >= count then break end
  end
end
out[1] = scanned
if taken == 0 then
  local nxt = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  if #nxt > 0 then out[2] = nxt[2] end
end
return out
