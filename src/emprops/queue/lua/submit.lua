-- submit: pending. Idempotent by id: the same job again is a no-op, a different one is refused.
-- KEYS: job, events, pending:<service>, seq, services, workflow (or the job key when none)
-- ARGV: prefix, id, service, fields_json, priority, workflow_id, workflow_priority, workflow_datetime
-- Returns {'created'|'exists', id} or {'conflict', field}.
local id, service, fields = ARGV[2], ARGV[3], cjson.decode(ARGV[4])
local job_key = KEYS[1]

if redis.call('EXISTS', job_key) == 1 then
  local cur = redis.call('HMGET', job_key, 'service_required', 'payload', 'requirements')
  if cur[1] ~= service then return {'conflict', 'service_required'} end
  if (cur[2] or '') ~= (fields.payload or '') then return {'conflict', 'payload'} end
  if (cur[3] or '') ~= (fields.requirements or '') then return {'conflict', 'requirements'} end
  return {'exists', id}
end

local now = now_ms()
-- One priority formula everywhere: higher P first, then older T, then submission order.
-- P in [0, 1000], T < 2^43 ms, so the score stays exact in a double (< 2^53).
local p, t = tonumber(ARGV[5]), now
if ARGV[6] ~= '' then
  -- Workflow priority inheritance: the first job of a workflow fixes P and T for all its steps.
  local wf = redis.call('HMGET', KEYS[6], 'priority', 'datetime')
  if not wf[1] then
    wf = {ARGV[7] ~= '' and ARGV[7] or ARGV[5], ARGV[8] ~= '' and ARGV[8] or fmt(now)}
    redis.call('HSET', KEYS[6], 'priority', wf[1], 'datetime', wf[2])
  end
  redis.call('PEXPIRE', KEYS[6], 7 * 24 * 3600 * 1000)
  p, t = tonumber(wf[1]), tonumber(wf[2])
  fields.workflow_priority, fields.workflow_datetime = wf[1], wf[2]
elseif ARGV[8] ~= '' then
  t = tonumber(ARGV[8])
end
local score = fmt((1000 - p) * 8796093022208 + t)
local member = string.format('%016d', redis.call('INCR', KEYS[4])) .. '|' .. id

local flat = {'id', id, 'service_required', service, 'status', 'pending', 'created_at', fmt(now),
  'attempt', '0', 'retry_count', '0', 'qscore', score, 'qmember', member}
for k, v in pairs(fields) do flat[#flat + 1] = k; flat[#flat + 1] = v end
redis.call('HSET', job_key, unpack(flat))
redis.call('ZADD', KEYS[3], score, member)
redis.call('SADD', KEYS[5], service)
-- Announced live only: a queued job has no event stream yet (a one-entry stream costs ~4.7 KB,
-- twenty times the job itself). Replay rebuilds this first event from the job hash.
redis.call('PUBLISH', PREFIX .. 'events', '{"job_id":' .. cjson.encode(id) ..
  ',"id":"0-1","event":"job_submitted","ts":' .. fmt(now) .. ',"data":' ..
  cjson.encode({service_required = service, priority = p}) .. '}')
redis.call('PUBLISH', PREFIX .. 'wake', service)
return {'created', id}
