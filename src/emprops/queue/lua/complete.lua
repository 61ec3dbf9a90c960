-- complete: assigned|in_progress -> completed. Fenced: a late result from a lost lease is refused.
-- KEYS: job, events, active
-- ARGV: prefix, id, worker_id, attempt, result_json, default_keep_ms
local id = ARGV[2]
local ok, status = holds(id, ARGV[3], ARGV[4])
if not ok then return {'lease_lost', status or 'missing'} end
local now = now_ms()
local f = redis.call('HMGET', KEYS[1], 'started_at', 'assigned_at', 'keep_completed_s')
redis.call('HSET', KEYS[1], 'status', 'completed', 'completed_at', fmt(now), 'result', ARGV[5],
  'progress', '100', 'started_at', f[1] or f[2])
redis.call('HDEL', KEYS[1], 'error', 'error_details')  -- an earlier attempt's failure is history
redis.call('ZREM', KEYS[3], id)
emit(id, 'complete_job', '{"worker_id":' .. cjson.encode(ARGV[3]) ..
  ',"result":{"status":"success","data":' .. ARGV[5] .. '}}')
local keep = f[3] and tonumber(f[3]) * 1000 or tonumber(ARGV[6])
retain(id, keep, now)
return {'ok', ''}
