#!/usr/bin/python3
"""A stand-in for systemd's manager on a private D-Bus bus, for SystemdTests.

It is NOT systemd. It owns the name org.freedesktop.systemd1 and handles the few calls
harbor-keyless makes (GetUnit, LoadUnit, RestartUnit, Subscribe, ListUnitFilesByPatterns, and
org.freedesktop.DBus.Properties on unit objects) with the signatures, object paths, error names
and JobRemoved signal that org.freedesktop.systemd1(5) documents for systemd 252. What happens
to each unit is scripted by a JSON scenario file:

    {"units": {"k3s.service": {"restart": "done", "delay_ms": 50, "churn": false,
                               "unit_file_state": "enabled"}},
     "noise_jobs": true}

restart: done | failed | timeout | dependency | skipped | canceled  (JobRemoved after delay_ms)
         never          (the job never ends, as with TimeoutStartSec=0 and no READY=1)
         before-reply   (JobRemoved "done" is sent before the RestartUnit reply)
churn:   the unit keeps restarting on its own: InvocationID, MainPID and NRestarts change
         every 50 ms, as in a Restart=always crash loop.
noise_jobs: before the real JobRemoved, send one for another job path with result "failed",
         so a client that does not filter by its own job path reads the wrong result.

Every method call is appended to the --log file as one JSON line (member, sender, args).
Runs on Debian's /usr/bin/python3 with python3-dbus and python3-gi.
"""

import argparse
import fnmatch
import json
import os
import random
import time

import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

MANAGER_INTERFACE = "org.freedesktop.systemd1.Manager"
UNIT_INTERFACE = "org.freedesktop.systemd1.Unit"
SERVICE_INTERFACE = "org.freedesktop.systemd1.Service"
PROPERTIES_INTERFACE = "org.freedesktop.DBus.Properties"


class NoSuchUnit(dbus.DBusException):
    _dbus_error_name = "org.freedesktop.systemd1.NoSuchUnit"


class AlreadySubscribed(dbus.DBusException):
    _dbus_error_name = "org.freedesktop.systemd1.AlreadySubscribed"


class UnknownInterface(dbus.DBusException):
    _dbus_error_name = "org.freedesktop.DBus.Error.UnknownInterface"


class UnknownProperty(dbus.DBusException):
    _dbus_error_name = "org.freedesktop.DBus.Error.UnknownProperty"


def escape_path_component(name):
    """Escape a unit name for an object path as sd-bus does: [A-Za-z0-9] kept, else _xx."""
    out = []
    for index, char in enumerate(name):
        if char.isascii() and (char.isalpha() or (char.isdigit() and index > 0)):
            out.append(char)
        else:
            out.extend("_%02x" % byte for byte in char.encode())
    return "".join(out)


def now_usec():
    return int(time.time() * 1_000_000)


class Unit(dbus.service.Object):
    def __init__(self, bus, name, script):
        self.name = name
        self.script = script
        self.path = "/org/freedesktop/systemd1/unit/" + escape_path_component(name)
        super().__init__(bus, self.path)
        loaded = script is not None
        self.load_state = "loaded" if loaded else "not-found"
        self.active_state = "active" if loaded else "inactive"
        self.sub_state = "running" if loaded else "dead"
        self.fragment_path = ("/etc/systemd/system/" + name) if loaded else ""
        self.invocation_id = random.randbytes(16) if loaded else b""
        self.main_pid = random.randint(1000, 60000) if loaded else 0
        self.exec_main_start = now_usec() if loaded else 0
        self.n_restarts = 0

    def start_new_run(self, automatic):
        """A new run of the service: new invocation, new main process."""
        self.invocation_id = random.randbytes(16)
        self.main_pid = random.randint(1000, 60000)
        self.exec_main_start = now_usec()
        self.active_state = "active"
        self.sub_state = "running"
        if automatic:
            self.n_restarts += 1
        else:
            # systemd resets NRestarts when a start is requested explicitly.
            self.n_restarts = 0

    def properties(self, interface):
        if interface == UNIT_INTERFACE:
            return dbus.Dictionary({
                "Id": dbus.String(self.name),
                "LoadState": dbus.String(self.load_state),
                "ActiveState": dbus.String(self.active_state),
                "SubState": dbus.String(self.sub_state),
                "FragmentPath": dbus.String(self.fragment_path),
                "InvocationID": dbus.ByteArray(self.invocation_id),
                "ActiveEnterTimestamp": dbus.UInt64(self.exec_main_start),
            }, signature="sv")
        if interface == SERVICE_INTERFACE and self.name.endswith(".service"):
            return dbus.Dictionary({
                "MainPID": dbus.UInt32(self.main_pid),
                "ExecMainStartTimestamp": dbus.UInt64(self.exec_main_start),
                "NRestarts": dbus.UInt32(self.n_restarts),
                "Result": dbus.String("success"),
            }, signature="sv")
        raise UnknownInterface("Unknown interface %s." % interface)

    @dbus.service.method(PROPERTIES_INTERFACE, in_signature="s", out_signature="a{sv}")
    def GetAll(self, interface):
        return self.properties(interface)

    @dbus.service.method(PROPERTIES_INTERFACE, in_signature="ss", out_signature="v")
    def Get(self, interface, name):
        values = self.properties(interface)
        if name not in values:
            raise UnknownProperty("Unknown property %s." % name)
        return values[name]


class Manager(dbus.service.Object):
    def __init__(self, bus, scenario, log_path):
        super().__init__(bus, "/org/freedesktop/systemd1")
        self.bus = bus
        self.scenario = scenario
        self.log_path = log_path
        self.units = {}
        self.subscribers = set()
        self.next_job = random.randint(100, 900)
        for name, script in scenario.get("units", {}).items():
            unit = Unit(bus, name, script)
            self.units[name] = unit
            if script.get("churn"):
                GLib.timeout_add(50, self.churn, unit)

    def log(self, member, sender, *args):
        with open(self.log_path, "a") as file:
            file.write(json.dumps({"member": member, "sender": sender, "args": list(args)}) + "\n")

    def churn(self, unit):
        unit.start_new_run(automatic=True)
        return True

    def job_removed(self, job_id, job_path, unit_name, result):
        # Like systemd, send job signals only while a client is subscribed.
        if self.subscribers:
            self.JobRemoved(dbus.UInt32(job_id), dbus.ObjectPath(job_path), unit_name, result)

    @dbus.service.signal(MANAGER_INTERFACE, signature="uoss")
    def JobRemoved(self, job_id, job_path, unit_name, result):
        pass

    @dbus.service.method(MANAGER_INTERFACE, in_signature="", out_signature="", sender_keyword="sender")
    def Subscribe(self, sender=None):
        self.log("Subscribe", sender)
        if sender in self.subscribers:
            raise AlreadySubscribed("Client is already subscribed.")
        self.subscribers.add(sender)

    @dbus.service.method(MANAGER_INTERFACE, in_signature="s", out_signature="o", sender_keyword="sender")
    def GetUnit(self, name, sender=None):
        self.log("GetUnit", sender, name)
        unit = self.units.get(name)
        if unit is None or unit.load_state != "loaded":
            raise NoSuchUnit("Unit %s not loaded." % name)
        return dbus.ObjectPath(unit.path)

    @dbus.service.method(MANAGER_INTERFACE, in_signature="s", out_signature="o", sender_keyword="sender")
    def LoadUnit(self, name, sender=None):
        self.log("LoadUnit", sender, name)
        # systemd loads a unit with no file as a stub whose LoadState is "not-found".
        if name not in self.units:
            self.units[name] = Unit(self.bus, name, None)
        return dbus.ObjectPath(self.units[name].path)

    @dbus.service.method(MANAGER_INTERFACE, in_signature="ss", out_signature="o", sender_keyword="sender")
    def RestartUnit(self, name, mode, sender=None):
        self.log("RestartUnit", sender, name, mode)
        unit = self.units.get(name)
        if unit is None or unit.load_state != "loaded":
            raise NoSuchUnit("Unit %s not found." % name)

        self.next_job += 1
        job_id = self.next_job
        job_path = "/org/freedesktop/systemd1/job/%d" % job_id
        script = unit.script
        outcome = script.get("restart", "done")
        delay = script.get("delay_ms", 50)

        if self.scenario.get("noise_jobs"):
            self.job_removed(job_id + 1000, "/org/freedesktop/systemd1/job/%d" % (job_id + 1000), name, "failed")

        def finish():
            if outcome in ("done", "before-reply"):
                unit.start_new_run(automatic=False)
                self.job_removed(job_id, job_path, name, "done")
            else:
                unit.active_state = "failed"
                unit.sub_state = "failed"
                self.job_removed(job_id, job_path, name, outcome)
            return False

        if outcome == "before-reply":
            finish()
        elif outcome != "never":
            unit.active_state = "activating"
            unit.sub_state = "start"
            GLib.timeout_add(delay, finish)
        return dbus.ObjectPath(job_path)

    @dbus.service.method(MANAGER_INTERFACE, in_signature="asas", out_signature="a(ss)", sender_keyword="sender")
    def ListUnitFilesByPatterns(self, states, patterns, sender=None):
        self.log("ListUnitFilesByPatterns", sender, list(states), list(patterns))
        files = []
        for name, unit in sorted(self.units.items()):
            if unit.load_state != "loaded":
                continue
            state = unit.script.get("unit_file_state", "enabled")
            if states and state not in states:
                continue
            if patterns and not any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns):
                continue
            files.append(dbus.Struct((unit.fragment_path, state), signature="ss"))
        return dbus.Array(files, signature="(ss)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--address", required=True, help="D-Bus address of the private bus")
    parser.add_argument("--scenario", required=True, help="JSON scenario file")
    parser.add_argument("--log", required=True, help="file that receives one JSON line per call")
    parser.add_argument("--ready", required=True, help="file created once the name is owned")
    options = parser.parse_args()

    with open(options.scenario) as file:
        scenario = json.load(file)

    DBusGMainLoop(set_as_default=True)
    bus = dbus.bus.BusConnection(options.address)
    manager = Manager(bus, scenario, options.log)
    name = dbus.service.BusName("org.freedesktop.systemd1", bus, do_not_queue=True)

    with open(options.ready + ".tmp", "w") as file:
        file.write(str(os.getpid()))
    os.rename(options.ready + ".tmp", options.ready)

    loop = GLib.MainLoop()
    loop.run()
    del manager, name


if __name__ == "__main__":
    main()
