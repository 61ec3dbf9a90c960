-- progress: assigned|in_progress -> in_progress, with percent and message. Fenced by attempt.
-- KEYS: job, events
-- ARGV: prefix, id, worker_id, attempt, percent, message
local id = ARGV[2]
local ok, status = holds(id, ARGV[3], ARGV[4])
if not ok then return {'lease_lost', status or 'missing'} end
local now = now_ms()
if status == 'assigned' then
  redis.call('HSET', KEYS[1], 'status', 'in_progress', 'started_at', fmt(now))
end
redis.call('HSET', KEYS[1], 'progress', ARGV[5], 'progress_message', ARGV[6])
emit(id, 'update_job_progress', cjson.encode({progress = tonumber(ARGV[5]), message = ARGV[6],
  worker_id = ARGV[3]}))
return {'ok', ''}
