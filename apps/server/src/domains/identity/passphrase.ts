import { randomInt } from "node:crypto";

// Short, unambiguous words that are easy to read out over the phone (no homophones like to/two).
const WORDS = `amber anchor apple arrow autumn badge bamboo banjo basket beacon berry bison blanket blossom
bonfire breeze bridge bucket cactus camera candle canyon carbon cargo castle cedar cello cherry chimney cider
circus citrus clover cobalt comet copper coral cotton crystal dolphin dragon ember engine falcon fern fiddle
forest fossil galaxy garden garnet geyser ginger glacier granite gravel harbor hazel helmet hickory honey
island ivory jacket jasmine jungle kayak kettle kiwi ladder lagoon lantern lemon lilac linen lobster magnet
mango maple marble meadow meteor mitten mosaic muffin nectar noodle oasis ocean olive orbit orchid otter
paddle panther parrot pebble pepper pilot pirate planet plaza pocket prairie pumpkin quartz quiver rabbit
radar raven ribbon river rocket saddle salmon satin sequoia shadow silver sketch sparrow spider spruce
summit sunset tablet teapot thunder tiger timber tomato topaz tractor trumpet tulip tunnel turtle velvet
violet walnut walrus willow window winter wizard yogurt zebra zipper`
  .split(/\s+/)
  .filter(Boolean);

const cap = (w: string) => w[0]!.toUpperCase() + w.slice(1);

/**
 * A temporary password to read out: four capitalised words and two digits joined by dashes
 * ("Maple-Orbit-Candle-Walrus-42"): upper, lower, digit and symbol, so Active Directory's complexity
 * rule holds, about 39 bits from the CSPRNG, and the user must change it at next logon.
 */
export function newPassphrase(): string {
  const words = Array.from({ length: 4 }, () => cap(WORDS[randomInt(WORDS.length)]!));
  return `${words.join("-")}-${String(randomInt(100)).padStart(2, "0")}`;
}

export const WORD_COUNT = WORDS.length;
