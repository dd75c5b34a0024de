package pokeserver

// gen1 holds the names of the first 151 Pokémon, as PokeAPI spells them,
// so demo output looks familiar. Later ids are named "pokemon-<id>".
var gen1 = [...]string{
	"bulbasaur", "ivysaur", "venusaur", "charmander", "charmeleon", "charizard",
	"squirtle", "wartortle", "blastoise", "caterpie", "metapod", "butterfree",
	"weedle", "kakuna", "beedrill", "pidgey", "pidgeotto", "pidgeot", "rattata",
	"raticate", "spearow", "fearow", "ekans", "arbok", "pikachu", "raichu",
	"sandshrew", "sandslash", "nidoran-f", "nidorina", "nidoqueen", "nidoran-m",
	"nidorino", "nidoking", "clefairy", "clefable", "vulpix", "ninetales",
	"jigglypuff", "wigglytuff", "zubat", "golbat", "oddish", "gloom", "vileplume",
	"paras", "parasect", "venonat", "venomoth", "diglett", "dugtrio", "meowth",
	"persian", "psyduck", "golduck", "mankey", "primeape", "growlithe", "arcanine",
	"poliwag", "poliwhirl", "poliwrath", "abra", "kadabra", "alakazam", "machop",
	"machoke", "machamp", "bellsprout", "weepinbell", "victreebel", "tentacool",
	"tentacruel", "geodude", "graveler", "golem", "ponyta", "rapidash", "slowpoke",
	"slowbro", "magnemite", "magneton", "farfetchd", "doduo", "dodrio", "seel",
	"dewgong", "grimer", "muk", "shellder", "cloyster", "gastly", "haunter",
	"gengar", "onix", "drowzee", "hypno", "krabby", "kingler", "voltorb",
	"electrode", "exeggcute", "exeggutor", "cubone", "marowak", "hitmonlee",
	"hitmonchan", "lickitung", "koffing", "weezing", "rhyhorn", "rhydon",
	"chansey", "tangela", "kangaskhan", "horsea", "seadra", "goldeen", "seaking",
	"staryu", "starmie", "mr-mime", "scyther", "jynx", "electabuzz", "magmar",
	"pinsir", "tauros", "magikarp", "gyarados", "lapras", "ditto", "eevee",
	"vaporeon", "jolteon", "flareon", "porygon", "omanyte", "omastar", "kabuto",
	"kabutops", "aerodactyl", "snorlax", "articuno", "zapdos", "moltres",
	"dratini", "dragonair", "dragonite", "mewtwo", "mew",
}

// typeNames are PokeAPI's 21 types in id order (the real API numbers the
// last two 10001 and 10002; here ids stay contiguous).
var typeNames = [...]string{
	"normal", "fighting", "flying", "poison", "ground", "rock", "bug", "ghost",
	"steel", "fire", "water", "grass", "electric", "psychic", "ice", "dragon",
	"dark", "fairy", "stellar", "unknown", "shadow",
}

// abilityNames are the first real abilities; later ids are "ability-<id>".
var abilityNames = [...]string{
	"stench", "drizzle", "speed-boost", "battle-armor", "sturdy", "damp",
	"limber", "sand-veil", "static", "volt-absorb", "water-absorb", "oblivious",
	"cloud-nine", "compound-eyes", "insomnia", "color-change", "immunity",
	"flash-fire", "shield-dust", "own-tempo",
}

// abilityCount matches the real API's ability total.
const abilityCount = 367
