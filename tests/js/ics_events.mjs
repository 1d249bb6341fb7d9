// Parse an iCalendar file with ical.js (Mozilla's parser, the one inside Thunderbird)
// and print what a client would see, as JSON, for the Python tests to compare.
//
//   node tests/js/ics_events.mjs [--expand N] [file.ics]     (reads stdin without a file)
//   node tests/js/ics_events.mjs --many < calendars.json      (a JSON list of calendars)
//
// Output: {roots, calendar: {NAME: [values]}, timezones: [tzid], events: [...]}; each
// event has its text properties as ical.js unescapes them, start/end as written (value,
// zone, isDate) with their UTC instant, and the first N occurrences (default 60)
// expanded by ical.js's own recurrence iterator, resolved with the file's VTIMEZONEs.
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

const args = process.argv.slice(2);
let expand = 60;
let path = null;
let many = false;
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--expand") expand = Number(args[++i]);
  else if (args[i] === "--many") many = true;
  else path = args[i];
}
const input = readFileSync(path ?? 0, "utf8");

// RFC 7986 NAME and the X-WR- names are TEXT for the clients that show them (Apple,
// Google, Outlook); ical.js's design does not list them and would return them raw.
for (const name of ["name", "x-wr-calname", "x-wr-caldesc"]) {
  ICAL.design.icalendar.property[name] ??= { defaultType: "text" };
}

function instant(time) {
  // A DATE or a floating time (no zone) names no instant.
  if (!time || time.isDate || !time.zone || time.zone.tzid === "floating") return null;
  return time.toJSDate().toISOString();
}

function when(time) {
  if (!time) return null;
  return {
    value: time.toString(),
    zone: time.isDate ? null : time.zone ? time.zone.tzid : null,
    isDate: time.isDate,
    utc: instant(time),
  };
}

function values(component, name) {
  return component.getAllProperties(name).flatMap((p) => p.getValues().map(String));
}

function first(component, name) {
  const value = component.getFirstPropertyValue(name);
  return value === null || value === undefined ? null : value;
}

function stamp(component, name) {
  const value = first(component, name);
  return value ? instant(value) : null;
}

function describe(vevent) {
  const event = new ICAL.Event(vevent);
  const occurrences = [];
  const iterator = event.iterator();
  for (let next = iterator.next(); next && occurrences.length < expand; next = iterator.next()) {
    const details = event.getOccurrenceDetails(next);
    occurrences.push({ start: when(details.startDate), end: when(details.endDate) });
  }
  const rrule = first(vevent, "rrule");
  return {
    uid: first(vevent, "uid"),
    summary: first(vevent, "summary"),
    description: first(vevent, "description"),
    location: first(vevent, "location"),
    status: first(vevent, "status"),
    url: first(vevent, "url"),
    categories: values(vevent, "categories"),
    geo: first(vevent, "geo"),
    sequence: first(vevent, "sequence"),
    rrule: rrule ? rrule.toString() : null,
    dtstamp: stamp(vevent, "dtstamp"),
    created: stamp(vevent, "created"),
    lastModified: stamp(vevent, "last-modified"),
    start: when(first(vevent, "dtstart")),
    end: when(first(vevent, "dtend")),
    occurrences,
  };
}

function read(text) {
  const parsed = ICAL.parse(text);
  // One component parses to one jCal array; several to an array of them.
  const roots = typeof parsed[0] === "string" ? [parsed] : parsed;
  const calendar = new ICAL.Component(roots[0]);
  const properties = {};
  for (const property of calendar.getAllProperties()) {
    const name = property.name.toUpperCase();
    (properties[name] ??= []).push(...property.getValues().map(String));
  }
  return {
    roots: roots.length,
    rootName: calendar.name,
    calendar: properties,
    timezones: calendar.getAllSubcomponents("vtimezone").map((z) => first(z, "tzid")),
    events: calendar.getAllSubcomponents("vevent").map(describe),
  };
}

const result = many ? JSON.parse(input).map(read) : read(input);
process.stdout.write(JSON.stringify(result));
