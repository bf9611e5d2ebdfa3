ardour {
	["type"]    = "dsp",
	name        = "chordlet probe",
	category    = "Utility",
	license     = "MIT",
	author      = "chordlet tests",
	description = [[chordlet's tests/ardour_cli.sh only: passes the audio through and records, every
cycle, the transport position, the cycle's length, the chord, confidence and latency outputs
of the chordlet plugin on the track it is on (the track's first plugin) and the value Ardour
gives its freewheel port, into shared memory that the session script reads back.]]
}

-- Rows of 6 floats: transport sample, samples in the cycle, chord, confidence, latency (ms),
-- freewheel (the plugin's lv2:freeWheeling port: 1 while Ardour exports).
-- Floats hold sample positions exactly up to 2^24 (6 minutes at 44.1 kHz).
local ROWS = 20000
local W = 6
local TRACKS = { [0] = "demo", [1] = "progression", [2] = "filemode" }

function dsp_ioconfig ()
	return { { audio_in = 1, audio_out = 1 } }
end

function dsp_params ()
	return { { ["type"] = "input", name = "Track", doc = "0: the track named demo, 1: progression, 2: filemode",
		min = 0, max = 2, default = 0, integer = true } }
end

function dsp_init (rate)
	self:shmem ():allocate (1 + ROWS * W)
	self:shmem ():atomic_set_int (0, 0)
end

function dsp_run (ins, outs, n_samples)
	if ins[1] ~= outs[1] then
		ARDOUR.DSP.copy_vector (outs[1], ins[1], n_samples)
	end
	local n = self:shmem ():atomic_get_int (0)
	if n >= ROWS then return end
	local ctrl = CtrlPorts:array ()
	local route = Session:route_by_name (TRACKS[math.floor (ctrl[1] + 0.5)] or "demo")
	if route:isnil () then return end
	local chordlet = route:nth_plugin (0)
	if chordlet:isnil () then return end
	local pi = chordlet:to_insert ()
	-- get_plugin_insert_param counts the control ports: 0 threshold, 1 smoothing,
	-- 2 chord, 3 root, 4 quality, 5 bass, 6 confidence, 7 latency, 8 tuning,
	-- 9 tuning_hz, 10 freewheel (then audio_latency: the older ports keep their numbers)
	local row = self:shmem ():to_float (1 + n * W):array ()
	row[1] = Session:transport_sample ()
	row[2] = n_samples
	row[3] = ARDOUR.LuaAPI.get_plugin_insert_param (pi, 2, true)
	row[4] = ARDOUR.LuaAPI.get_plugin_insert_param (pi, 6, true)
	row[5] = ARDOUR.LuaAPI.get_plugin_insert_param (pi, 7, true)
	row[6] = ARDOUR.LuaAPI.get_plugin_insert_param (pi, 10, true)
	self:shmem ():atomic_set_int (0, n + 1)
end
