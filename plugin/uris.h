/* uris.h: the URIs chordlet.lv2 speaks, mapped once at instantiate (urid:map
 * is required). chordlet's own vocabulary lives under CHORDLET_URI. */
#ifndef CHORDLET_PLUGIN_URIS_H
#define CHORDLET_PLUGIN_URIS_H

#include <lv2/atom/atom.h>
#include <lv2/midi/midi.h>
#include <lv2/patch/patch.h>
#include <lv2/urid/urid.h>

#define CHORDLET_URI "urn:chordlet"
#define CHORDLET_MONO_URI CHORDLET_URI ":mono"
#define CHORDLET_STEREO_URI CHORDLET_URI ":stereo"
#define CHORDLET__model CHORDLET_URI "#model"             /* a patch:writable atom:Path parameter */
#define CHORDLET__ChordChange CHORDLET_URI "#ChordChange" /* the notify port's event object */
#define CHORDLET__chord CHORDLET_URI "#chord"             /* atom:Int 0..169 */
#define CHORDLET__name CHORDLET_URI "#name"               /* atom:String, the Harte label */
#define CHORDLET__label CHORDLET_URI "#label"             /* atom:String, the lead-sheet name (C#m7) */
#define CHORDLET__root CHORDLET_URI "#root"               /* atom:Int -1..11 */
#define CHORDLET__quality CHORDLET_URI "#quality"         /* atom:Int -1..13 */
#define CHORDLET__confidence CHORDLET_URI "#confidence"   /* atom:Float 0..1 */
#define CHORDLET__time CHORDLET_URI "#time"               /* atom:Double, seconds of audio where it starts */
#define CHORDLET__error CHORDLET_URI "#error"             /* atom:String, a model that failed to load */

typedef struct chordlet_uris {
  LV2_URID atom_Path, atom_String, atom_Int, atom_Float, atom_Double, atom_URID, atom_Object, atom_Sequence;
  LV2_URID atom_eventTransfer;
  LV2_URID patch_Set, patch_Get, patch_property, patch_value;
  LV2_URID midi_Event;
  LV2_URID model, ChordChange, chord, name, label, root, quality, confidence, time, error;
} chordlet_uris;

static inline void chordlet_map_uris(LV2_URID_Map *map, chordlet_uris *u) {
  u->atom_Path = map->map(map->handle, LV2_ATOM__Path);
  u->atom_String = map->map(map->handle, LV2_ATOM__String);
  u->atom_Int = map->map(map->handle, LV2_ATOM__Int);
  u->atom_Float = map->map(map->handle, LV2_ATOM__Float);
  u->atom_Double = map->map(map->handle, LV2_ATOM__Double);
  u->atom_URID = map->map(map->handle, LV2_ATOM__URID);
  u->atom_Object = map->map(map->handle, LV2_ATOM__Object);
  u->atom_Sequence = map->map(map->handle, LV2_ATOM__Sequence);
  u->atom_eventTransfer = map->map(map->handle, LV2_ATOM__eventTransfer);
  u->patch_Set = map->map(map->handle, LV2_PATCH__Set);
  u->patch_Get = map->map(map->handle, LV2_PATCH__Get);
  u->patch_property = map->map(map->handle, LV2_PATCH__property);
  u->patch_value = map->map(map->handle, LV2_PATCH__value);
  u->midi_Event = map->map(map->handle, LV2_MIDI__MidiEvent);
  u->model = map->map(map->handle, CHORDLET__model);
  u->ChordChange = map->map(map->handle, CHORDLET__ChordChange);
  u->chord = map->map(map->handle, CHORDLET__chord);
  u->name = map->map(map->handle, CHORDLET__name);
  u->label = map->map(map->handle, CHORDLET__label);
  u->root = map->map(map->handle, CHORDLET__root);
  u->quality = map->map(map->handle, CHORDLET__quality);
  u->confidence = map->map(map->handle, CHORDLET__confidence);
  u->time = map->map(map->handle, CHORDLET__time);
  u->error = map->map(map->handle, CHORDLET__error);
}

#endif
