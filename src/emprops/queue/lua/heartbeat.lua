-- heartbeat: renew the leases of the jobs a worker holds and record that it is alive.
-- KEYS: active, workers, worker hash
-- ARGV: prefix, worker_id, lease_ms, caps_json, status, then (job_id, attempt) pairs
-- Returns the ids of jobs the worker no longer holds (cancelled, reaped): it must stop them.
local worker_id, lease = ARGV[2], tonumber(ARGV[3])
local now = now_ms()
local lost = {}
for i = 6, #ARGV, 2 do
  local id = ARGV[i]
  if holds(id, worker_id, ARGV[i + 1]) then
    redis.call('ZADD', KEYS[1], 'XX', now + lease, id)
  else
    lost[#lost + 1] = id
  end
end
redis.call('ZADD', KEYS[2], now, worker_id)
redis.call('HSET', KEYS[3], 'caps', ARGV[4], 'status', ARGV[5], 'last_seen', fmt(now),
  'jobs', tostring((#ARGV - 5) / 2))
redis.call('PEXPIRE', KEYS[3], 24 * 3600 * 1000)
return lost
