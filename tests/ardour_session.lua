-- ardour_session.lua STEP DIR [SECONDS]: the Ardour side of tests/ardour_cli.sh,
-- run by ardour7-lua (Ardour 7's headless Lua session tool) on the "None
-- (Dummy)" backend. Every line it prints for the test starts with a capital
-- word the shell script greps for; a failed check prints "FAIL ..." and exits
-- the step early.
--   create DIR SECONDS  a 44.1 kHz session "chords" in DIR with three mono tracks,
--                       demo, progression and filemode, each with chordlet's mono
--                       plugin (loaded with an LV2 preset: model path, threshold,
--                       smoothing; "chordlet test" with the live model, and for
--                       filemode "chordlet file-mode" with the file-mode model,
--                       whose latency Ardour compensates) and the probe after it
--                       (tests/ardour_probe.lua); records a take of SECONDS on
--                       both (the shell script then puts the audio in the takes'
--                       files); saves and closes.
--   export DIR          reopens it; checks the regions and the plugin state the
--                       preset set; prints the plugins' reported latencies;
--                       exports the session (freewheeling); prints the probes'
--                       rows; sets other parameter values; saves.
--   reopen DIR          reopens it and prints the parameter values; saves.
local step, dir, seconds = arg[1], arg[2], tonumber (arg[3] or "0")
local RATE = 44100
local TRACKS = { "demo", "progression", "filemode" }
local PRESETS = { demo = "chordlet test", progression = "chordlet test", filemode = "chordlet file-mode" }

local function fail (msg)
	print ("FAIL " .. msg)
	if Session then Session:save_state ("", false, false, false, false, false) end
	close_session ()
	quit ()
	error (msg)
end

local be = AudioEngine:set_backend ("None (Dummy)", "", "")
if not be then print ("FAIL no Dummy backend") return end
-- Recording runs 50 times faster than real time; export freewheels anyway.
be:set_driver (step == "create" and "50x Speed" or "Normal Speed")
be:set_device_name ("Silence")

local function chordlet_of (name)
	local r = Session:route_by_name (name)
	if r:isnil () then fail ("no track " .. name) end
	local p = r:nth_plugin (0)
	if p:isnil () or p:display_name () ~= "chordlet (mono)" then fail ("no chordlet on " .. name) end
	return r, p
end

local function param (p, n)
	return ARDOUR.LuaAPI.get_processor_param (p, n, true)
end

local function print_params (tag)
	for _, name in ipairs (TRACKS) do
		local _, p = chordlet_of (name)
		print (string.format ("%s %s threshold=%.3f smoothing=%d", tag, name, param (p, 0), math.floor (param (p, 1) + 0.5)))
	end
end

if step == "create" then
	if not create_session (dir, "chords", RATE) then print ("FAIL create_session") return end
	for k, name in ipairs (TRACKS) do
		local t = Session:new_audio_track (1, 2, nil, 1, name, ARDOUR.PresentationInfo.max_order,
			ARDOUR.TrackMode.Normal, true):front ()
		local p = ARDOUR.LuaAPI.new_plugin (Session, "urn:chordlet:mono", ARDOUR.PluginType.LV2, PRESETS[name])
		if p:isnil () then fail ("new_plugin urn:chordlet:mono") end
		if t:add_processor_by_index (p, 0, nil, true) ~= 0 then fail ("adding chordlet to " .. name) end
		local probe = ARDOUR.LuaAPI.new_luaproc (Session, "chordlet probe")
		if probe:isnil () then fail ("new_luaproc chordlet probe") end
		if t:add_processor_by_index (probe, 1, nil, true) ~= 0 then fail ("adding the probe to " .. name) end
		ARDOUR.LuaAPI.set_processor_param (probe, 0, k - 1)
		t:rec_enable_control ():set_value (1, PBD.GroupControlDisposition.NoGroup)
	end
	print ("PLUGIN " .. Session:route_by_name ("demo"):nth_plugin (0):display_name ())
	print_params ("PRESET")
	Session:maybe_enable_record (false)
	Session:request_roll (ARDOUR.TransportRequestSource.TRS_UI)
	local waited = 0
	while Session:transport_sample () < seconds * RATE and waited < 60 do sleep (0.05) waited = waited + 0.05 end
	Session:request_stop (false, false, ARDOUR.TransportRequestSource.TRS_UI)
	sleep (0.5)
	Session:disable_record (false, false)
	for _, name in ipairs (TRACKS) do
		local t = Session:route_by_name (name):to_track ()
		t:rec_enable_control ():set_value (0, PBD.GroupControlDisposition.NoGroup)
		for r in t:playlist ():region_list ():iter () do
			print (string.format ("TAKE %s %s %d", name, r:name (), r:length ():samples ()))
		end
	end
	Session:save_state ("", false, false, false, false, false)
	print ("SAVED " .. step) -- the step's work is on disk: see ardour_cli.sh on teardown aborts
	close_session ()

elseif step == "export" then
	if not load_session (dir, "chords") then print ("FAIL load_session") return end
	print_params ("RESTORED")
	local len = 0
	for _, name in ipairs (TRACKS) do
		local t = Session:route_by_name (name):to_track ()
		for r in t:playlist ():region_list ():iter () do
			print (string.format ("REGION %s %d %d", name, r:position ():samples (), r:length ():samples ()))
			-- No fade-in (Ardour's default is 64 samples): the plugin hears the
			-- file as it is, as the library does in the comparison.
			r:to_audioregion ():set_fade_in_active (false)
			len = math.max (len, r:length ():samples ())
		end
	end
	for _, name in ipairs (TRACKS) do
		local _, p = chordlet_of (name)
		print (string.format ("LATENCY %s %d", name, p:signal_latency ()))
	end
	local e = Session:simple_export ()
	e:set_name ("export")
	e:set_folder (dir .. "/export")
	e:set_range (0, len)
	if not e:set_preset ("75969a1c-3133-4694-864b-a1fa50e43348") then fail ("no WAV export preset") end
	local t0 = os.time ()
	if not e:run_export () then fail ("export failed") end
	print (string.format ("EXPORTED %d samples", len))
	for k, name in ipairs (TRACKS) do
		local r = Session:route_by_name (name)
		local shm = r:nth_plugin (1):to_insert ():plugin (0):to_luaproc ():shmem ()
		local n = shm:atomic_get_int (0)
		local rows = shm:to_float (1):array ()
		for i = 0, n - 1 do
			local b = i * 6
			print (string.format ("ROW %s %d %d %d %.4f %.1f %d", name, rows[b + 1], rows[b + 2], rows[b + 3], rows[b + 4],
				rows[b + 5], rows[b + 6]))
		end
	end
	-- New values, to be found after the next reopen.
	local _, p = chordlet_of ("demo")
	ARDOUR.LuaAPI.set_processor_param (p, 0, 0.1)
	ARDOUR.LuaAPI.set_processor_param (p, 1, 3)
	print_params ("CHANGED")
	Session:save_state ("", false, false, false, false, false)
	print ("SAVED " .. step) -- the step's work is on disk: see ardour_cli.sh on teardown aborts
	close_session ()

elseif step == "reopen" then
	if not load_session (dir, "chords") then print ("FAIL load_session") return end
	print_params ("REOPENED")
	Session:save_state ("", false, false, false, false, false)
	print ("SAVED " .. step) -- the step's work is on disk: see ardour_cli.sh on teardown aborts
	close_session ()
else
	print ("FAIL unknown step " .. tostring (step))
end
print ("DONE " .. step)
