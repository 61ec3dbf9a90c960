-- claim: pending -> assigned. Scan the best `scan` pending jobs of the worker's services (merged
-- by score, then submission order) and take up to `count` that match its capabilities.
-- KEYS: active, delayed
-- ARGV: prefix, worker_id, caps_json, scan, count, lease_ms
-- Returns {scanned, next_delayed_ms or '', job1_flat, job2_flat, ...}
local worker_id, caps = ARGV[2], cjson.decode(ARGV[3])
local scan, count, lease = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local now = now_ms()

-- Candidates come in small pages per service, merged by (score, member): a claim whose first
-- candidates match reads little, and the cost does not grow with the depth of the queue.
local PAGE = math.min(scan, 16)
local cursors = {}
for _, service in ipairs(caps.services) do
  cursors[#cursors + 1] = {key = PREFIX .. 'pending:' .. service, service = service, offset = 0,
    buf = {}, pos = 1, done = false}
end

local function fill(c)
  if c.done or c.pos <= #c.buf then return end
  local page = redis.call('ZRANGE', c.key, c.offset, c.offset + PAGE - 1, 'WITHSCORES')
  c.buf, c.pos = {}, 1
  for i = 1, #page, 2 do
    c.buf[#c.buf + 1] = {member = page[i], score = tonumber(page[i + 1])}
  end
  c.offset = c.offset + #c.buf
  if #c.buf == 0 then c.done = true end
end

local function next_candidate()
  local best, from = nil, nil
  for _, c in ipairs(cursors) do
    fill(c)
    local head = c.buf[c.pos]
    if head and (best == nil or head.score < best.score
        or (head.score == best.score and head.member < best.member)) then
      best, from = head, c
    end
  end
  if best then from.pos = from.pos + 1 end
  return best, from
end

-- Removing an entry the cursor already passed shifts the ones after it down by one.
local function remove(c, member)
  redis.call('ZREM', c.key, member)
  c.offset = c.offset - 1
end

local out, scanned, taken = {0, ''}, 0, 0
while scanned < scan and taken < count do
  local c, from = next_candidate()
  if c == nil then break end
  local job_id = string.sub(c.member, 18)
  local job_key = PREFIX .. 'job:' .. job_id
  local f = redis.call('HMGET', job_key, 'service_required', 'customer_id', 'workflow_id',
    'requirements', 'status', 'last_failed_worker', 'exclude_until')
  scanned = scanned + 1
  if f[5] ~= 'pending' then
    -- A leftover entry (job expired or already moved): drop it so it is not scanned again.
    remove(from, c.member)
  elseif not (f[6] == worker_id and tonumber(f[7] or 0) > now)
      and matches(caps, job_view(job_id, f)) then
    remove(from, c.member)
    local attempt = redis.call('HINCRBY', job_key, 'attempt', 1)
    redis.call('HSET', job_key, 'status', 'assigned', 'worker_id', worker_id,
      'assigned_at', fmt(now))
    redis.call('ZADD', KEYS[1], now + lease, job_id)
    emit(job_id, 'job_claimed', cjson.encode({worker_id = worker_id, attempt = attempt}))
    out[#out + 1] = redis.call('HGETALL', job_key)
    taken = taken + 1
  end
end
out[1] = scanned
if taken == 0 then
  local nxt = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  if #nxt > 0 then out[2] = nxt[2] end
end
return out
