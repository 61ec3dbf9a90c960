-- cancel: any unfinished state -> cancelled. A running job's worker is told on its control
-- channel (and learns it at its next heartbeat if it missed that).
-- KEYS: job, events, active, delayed
-- ARGV: prefix, id, reason, default_keep_ms
local id = ARGV[2]
local f = redis.call('HMGET', KEYS[1], 'status', 'service_required', 'qmember', 'worker_id')
if not f[1] then return {'missing', ''} end
if f[1] == 'completed' or f[1] == 'failed' or f[1] == 'cancelled' then return {'finished', f[1]} end
local now = now_ms()
redis.call('ZREM', PREFIX .. 'pending:' .. f[2], f[3])
redis.call('ZREM', KEYS[4], id)
if redis.call('ZREM', KEYS[3], id) == 1 and f[4] and f[4] ~= '' then
  redis.call('PUBLISH', PREFIX .. 'control:' .. f[4], cjson.encode({cancel = id}))
end
redis.call('HSET', KEYS[1], 'status', 'cancelled', 'cancelled_at', fmt(now), 'error', ARGV[3])
emit(id, 'job_cancelled', cjson.encode({reason = ARGV[3], previous_status = f[1]}))
retain(id, tonumber(ARGV[4]), now)
return {'cancelled', f[1]}
