-- release: assigned|in_progress -> pending, keeping its place and its retry count: a worker that
-- shuts down gracefully hands back what it has not finished.
-- KEYS: job, events, active
-- ARGV: prefix, id, worker_id, attempt
local id = ARGV[2]
local ok, status = holds(id, ARGV[3], ARGV[4])
if not ok then return {'lease_lost', status or 'missing'} end
redis.call('HSET', KEYS[1], 'status', 'pending', 'worker_id', '')
redis.call('ZREM', KEYS[3], id)
requeue_pending(id)
emit(id, 'job_released', cjson.encode({worker_id = ARGV[3]}))
return {'ok', ''}
