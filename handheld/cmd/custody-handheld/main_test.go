package main

import (
	"encoding/xml"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/custodyhq/custody/handheld/scan/replay"
)

// The manifest fyne package takes instead of its own: the camera and
// the network are asked for, the activity is Go's, and nothing fyne
// package refuses to find there (uses-sdk, android:icon) is in it.
func TestAndroidManifest(t *testing.T) {
	b, err := os.ReadFile("AndroidManifest.xml")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Perms []struct {
			Name string `xml:"name,attr"`
		} `xml:"uses-permission"`
		SDK *struct{} `xml:"uses-sdk"`
		App struct {
			Icon     string `xml:"icon,attr"`
			Activity struct {
				Name string `xml:"name,attr"`
				Meta []struct {
					Name  string `xml:"name,attr"`
					Value string `xml:"value,attr"`
				} `xml:"meta-data"`
			} `xml:"activity"`
		} `xml:"application"`
	}
	if err := xml.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var perms []string
	for _, p := range m.Perms {
		perms = append(perms, p.Name)
	}
	for _, want := range []string{"android.permission.CAMERA", "android.permission.INTERNET"} {
		if !slices.Contains(perms, want) {
			t.Errorf("manifest lacks %s: %v", want, perms)
		}
	}
	if m.SDK != nil || m.App.Icon != "" {
		t.Error("manifest declares uses-sdk or android:icon: fyne package refuses it")
	}
	if m.App.Activity.Name != "org.golang.app.GoNativeActivity" || len(m.App.Activity.Meta) != 1 ||
		m.App.Activity.Meta[0].Value != "custody-handheld" {
		t.Errorf("activity %+v", m.App.Activity)
	}
}

func TestCameraSpec(t *testing.T) {
	frames := t.TempDir()
	if _, err := replay.WriteFolder(frames, [][]byte{[]byte("]d20100350123456780\x1d21A1")}, replay.Options{W: 320, H: 240, Module: 4}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		spec     string
		ok, none bool
	}{
		{"none", true, true},
		{"replay:" + frames, true, false},
		{"replay:" + t.TempDir(), false, false}, // no images
		{"replay:", false, false},
		{"v4l2:", false, false},
		{"webcam", false, false},
	} {
		cam, err := cameraFor(tc.spec)
		if (err == nil) != tc.ok || (err == nil && (cam == nil) != tc.none) {
			t.Errorf("%q: camera %v, err %v", tc.spec, cam != nil, err)
		}
	}
}

// state tells an empty data dir from a loaded one.
func TestDataDirState(t *testing.T) {
	dir := t.TempDir()
	if s, err := state(dir); err != nil || s != "empty" {
		t.Fatalf("%s %v", s, err)
	}
	d, err := open(dir, "hh-x", options{}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	if err := loadDemo(d.eng); err != nil {
		t.Fatal(err)
	}
	d.close()
	if s, err := state(dir); err != nil || s != "loaded" {
		t.Fatalf("%s %v", s, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "MANIFEST")); err != nil {
		t.Fatal(err)
	}
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
