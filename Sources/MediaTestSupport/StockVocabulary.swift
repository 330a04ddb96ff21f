import MediaCore

/// A hand-made stock vocabulary for the related-tags benchmark (`media-bench related`,
/// docs/performance.md): concepts tagged the way stock providers tag them, and queries written
/// with other words for the same things, each with the library tags a person would accept as an
/// answer.
///
/// The library's words are the providers' (Pexels, Pixabay, Unsplash): `ocean`, `seascape`,
/// `waves`; the queries use the words a script uses: `sea`, `seaside`, `youngster`, `java`. A few
/// concepts carry one of those words on a small share of their assets (`rare`), as some
/// providers do, so that exact search finds a handful and falls short.
///
/// The queries are not chosen for WordNet to answer: some it relates well (`sundown` ~ `sunset`),
/// some it relates through another sense (`jet` ~ `green`, `mobile` → `city`, `kitty` ~ `pool`,
/// `cosmos` → `flower`, `summit` → `meeting`, `gymnasium` → `school`), some not at all
/// (`workplace`, `chapel`, `lovers`). The acceptable lists are judged for the word's sense in a
/// video script, not from what WordNet says.
public enum StockVocabulary {
    /// One thing providers photograph, and the words they tag it with.
    public struct Concept: Sendable, Equatable {
        public let name: String
        /// The provider's own words for it: every asset of the concept gets one or two.
        public let words: [String]
        /// Words of what is seen with it: one to three.
        public let context: [String]
        /// Broad tags providers add to everything (`nature`, `people`, `outdoor`): one or two.
        public let generic: [String]
        /// Other words for it that a few providers use: one of them on about 4 % of its assets.
        public let rare: [String]
        /// Concepts often in the same picture: about a third of the assets also get one of their
        /// words.
        public let companions: [String]
        /// How many assets it has against the others (a mildly skewed popularity).
        public let weight: Double
    }

    /// One search in other words, and what may answer it.
    public struct Query: Sendable, Equatable {
        public let tags: [String]
        /// Per query tag, the library tags that answer it; the first is the library's own word
        /// for it (the benchmark's exact twin of the query).
        public let acceptable: [[String]]
        /// Why the query is in the set, when it is there to mislead.
        public let note: String?
    }

    static func concept(
        _ name: String, _ words: [String], _ context: [String], _ generic: [String], rare: [String] = [],
        with companions: [String] = [], weight: Double = 1
    ) -> Concept {
        Concept(name: name, words: words, context: context, generic: generic, rare: rare, companions: companions, weight: weight)
    }

    public static let concepts: [Concept] = [
        concept(
            "ocean", ["ocean", "seascape", "waves"], ["water", "blue", "horizon", "coast", "surf"], ["nature", "outdoor"],
            rare: ["sea"], with: ["sunset", "beach"], weight: 3),
        concept(
            "beach", ["beach", "sand", "shore"], ["palm tree", "vacation", "summer", "tropical", "island", "coast"],
            ["travel", "outdoor"], rare: ["seaside"], with: ["ocean", "kids", "couple", "dog"], weight: 3),
        concept(
            "sunset", ["sunset", "golden hour"], ["sky", "clouds", "silhouette", "evening", "orange"], ["nature"],
            rare: ["dusk"], with: ["ocean", "couple", "city"], weight: 3),
        concept("sunrise", ["sunrise", "dawn"], ["morning", "sky", "fog", "mist"], ["nature"], with: ["mountain", "lake"], weight: 2),
        concept("night", ["night", "night sky"], ["stars", "moon", "dark", "lights"], ["nature"], with: ["city"], weight: 2),
        concept(
            "stars", ["stars", "milky way", "galaxy"], ["astronomy", "space", "night sky", "telescope"], ["nature"],
            with: ["mountain"]),
        concept("sky", ["sky", "clouds", "blue sky"], ["cloudscape", "weather", "sun"], ["nature"], weight: 2),
        concept(
            "storm", ["storm", "thunderstorm", "lightning"], ["clouds", "dark", "rain", "wind"], ["weather", "nature"],
            with: ["ocean"]),
        concept("rain", ["rain", "raindrops"], ["umbrella", "wet", "window", "puddle"], ["weather"], with: ["city"]),
        concept(
            "snow", ["snow", "winter"], ["cold", "ice", "frost", "snowfall", "snowy"], ["nature", "outdoor"],
            with: ["mountain", "kids"], weight: 2),
        concept(
            "autumn", ["autumn", "autumn leaves"], ["leaves", "foliage", "orange", "park", "season"], ["nature", "outdoor"],
            rare: ["fall"], with: ["forest"], weight: 2),
        concept(
            "flowers", ["flowers", "flower", "blossom"], ["spring", "bloom", "petals", "garden", "tulips"], ["nature"],
            with: ["garden"], weight: 2),
        concept(
            "forest", ["forest", "trees"], ["green", "path", "moss", "sunlight", "woodland"], ["nature", "outdoor"],
            rare: ["woods"], with: ["autumn", "river"], weight: 3),
        concept(
            "mountain", ["mountain", "mountains", "peak"], ["snow", "hiking", "landscape", "valley", "alps"],
            ["nature", "outdoor"], with: ["lake", "sunrise"], weight: 3),
        concept("lake", ["lake", "pond"], ["reflection", "water", "calm", "shore"], ["nature"], with: ["mountain"], weight: 2),
        concept("river", ["river", "stream"], ["water", "rocks", "bridge", "canyon"], ["nature"], rare: ["creek"], with: ["forest"]),
        concept("waterfall", ["waterfall"], ["rocks", "river", "jungle", "mist"], ["nature"], with: ["forest"]),
        concept("desert", ["desert", "dunes"], ["sand", "hot", "dry", "arid", "camel"], ["nature", "travel"]),
        concept(
            "underwater", ["underwater", "fish", "coral"], ["diving", "marine life", "blue", "snorkeling"], ["nature"],
            with: ["ocean"]),
        concept(
            "city", ["city", "urban", "cityscape"], ["buildings", "downtown", "street", "skyscraper", "skyline"],
            ["architecture", "travel"], with: ["night", "traffic", "car"], weight: 4),
        concept("village", ["village", "countryside"], ["houses", "rural", "old town", "stone"], ["travel"], with: ["farm", "church"]),
        concept("traffic", ["traffic", "rush hour"], ["cars", "street", "commute", "highway"], ["transportation"], with: ["city"]),
        concept(
            "car", ["car", "vehicle"], ["road", "driving", "wheel", "parking"], ["transportation"], rare: ["auto"],
            with: ["road", "city"], weight: 3),
        concept("truck", ["truck"], ["highway", "cargo", "logistics", "delivery", "trailer"], ["transportation"], with: ["road"]),
        concept(
            "road", ["road", "highway"], ["asphalt", "journey", "road trip", "landscape"], ["transportation", "travel"],
            with: ["car"], weight: 2),
        concept("train", ["train", "railway"], ["station", "tracks", "locomotive", "commuter"], ["transportation", "travel"]),
        concept(
            "airplane", ["airplane", "aircraft", "plane"], ["sky", "airport", "flight", "wing"], ["transportation", "travel"],
            with: ["sky"]),
        concept("boat", ["boat", "sailboat"], ["harbor", "sailing", "yacht", "marina"], ["travel"], with: ["ocean", "lake"]),
        concept("bridge", ["bridge"], ["river", "architecture", "steel"], ["travel"], with: ["city", "river"]),
        concept("church", ["church", "cathedral"], ["religion", "architecture", "old", "tower"], ["travel"], with: ["village"]),
        concept(
            "house", ["house", "home"], ["real estate", "roof", "garden", "front door"], ["architecture"], with: ["family"],
            weight: 2),
        concept("garden", ["garden", "backyard"], ["plants", "flowers", "grass", "gardening"], ["nature"], with: ["house"]),
        concept(
            "farm", ["farm", "agriculture", "field"], ["tractor", "crops", "harvest", "cows", "barn"], ["rural", "nature"],
            with: ["horse"]),
        concept("horse", ["horse", "horses"], ["farm", "riding", "meadow", "stable"], ["animal"], with: ["farm"]),
        concept(
            "dog", ["dog", "puppy", "pet"], ["grass", "park", "cute", "walking"], ["animal"], rare: ["doggy"],
            with: ["kids", "family", "beach"], weight: 3),
        concept("cat", ["cat", "kitten"], ["pet", "cute", "fur", "whiskers"], ["animal"], weight: 2),
        concept("bird", ["bird", "birds"], ["wings", "wildlife", "feathers", "flying"], ["animal", "nature"]),
        concept(
            "kids", ["kids", "child", "boy", "girl"], ["playing", "fun", "smile", "playground", "school"], ["people", "family"],
            with: ["beach", "dog"], weight: 3),
        concept("baby", ["baby", "infant", "newborn"], ["cute", "mother", "sleeping"], ["people", "family"], weight: 2),
        concept(
            "family", ["family", "parents"], ["mother", "father", "together", "home"], ["people"], with: ["kids", "dog"],
            weight: 2),
        concept(
            "couple", ["couple", "love", "romance"], ["together", "holding hands", "romantic"], ["people"],
            with: ["sunset", "beach"], weight: 2),
        concept(
            "wedding", ["wedding", "bride", "groom"], ["marriage", "ceremony", "ring", "bouquet"], ["people"],
            with: ["couple", "sunset"]),
        concept("woman", ["woman", "portrait"], ["smile", "beauty", "hair", "face"], ["people"], with: ["phone", "coffee"], weight: 4),
        concept("man", ["man", "portrait"], ["beard", "casual", "face"], ["people"], rare: ["guy"], with: ["coffee"], weight: 3),
        concept(
            "elderly", ["elderly", "senior"], ["grandmother", "grandfather", "retirement", "old"], ["people"],
            with: ["family", "kids"]),
        concept(
            "office", ["office", "business", "desk"], ["laptop", "work", "coworkers", "workspace"], ["business", "indoor"],
            with: ["meeting", "computer"], weight: 3),
        concept(
            "meeting", ["meeting", "teamwork", "colleagues"], ["office", "discussion", "presentation", "conference"],
            ["business", "people"], with: ["office"], weight: 2),
        concept(
            "computer", ["laptop", "computer"], ["keyboard", "screen", "typing", "work"], ["technology"],
            with: ["office", "coffee"], weight: 2),
        concept(
            "phone", ["smartphone", "phone", "mobile phone"], ["hand", "screen", "app", "texting"], ["technology"],
            with: ["woman"], weight: 2),
        concept("money", ["money", "cash", "finance"], ["coins", "banknotes", "wallet", "savings", "dollar"], ["business"]),
        concept("shopping", ["shopping", "store", "shop"], ["shopping bags", "retail", "mall", "customer"], ["people"]),
        concept(
            "factory", ["factory", "industry", "industrial"], ["machinery", "workers", "production", "warehouse"],
            ["business"]),
        concept("construction", ["construction", "construction site"], ["crane", "workers", "helmet", "building"], ["business"]),
        concept(
            "doctor", ["doctor", "medical", "hospital"], ["nurse", "stethoscope", "patient", "health care"],
            ["health", "people"]),
        concept(
            "fitness", ["fitness", "workout", "gym"], ["exercise", "training", "dumbbells", "sport"], ["health", "people"],
            weight: 2),
        concept("running", ["running", "runner", "jogging"], ["sport", "park", "fitness", "marathon"], ["people", "outdoor"]),
        concept("football", ["football", "soccer"], ["ball", "stadium", "match", "player", "field"], ["sport"]),
        concept("swimming pool", ["swimming pool", "pool"], ["swimming", "water", "summer", "hotel"], ["lifestyle"]),
        concept(
            "music", ["music", "concert", "guitar"], ["musician", "stage", "band", "microphone", "crowd"], ["entertainment"],
            with: ["party"], weight: 2),
        concept("party", ["party", "celebration"], ["friends", "drinks", "fun", "dancing", "confetti"], ["people"], with: ["music"]),
        concept("bar", ["bar", "cocktail"], ["drinks", "glass", "bartender", "nightlife"], ["drink"], with: ["night"]),
        concept(
            "coffee", ["coffee", "cafe", "espresso"], ["cup", "latte", "mug", "barista", "morning"], ["drink"],
            with: ["computer", "woman"], weight: 3),
        concept("food", ["food", "meal", "dinner"], ["plate", "restaurant", "delicious", "lunch"], ["food"], weight: 3),
        concept("fruit", ["fruit", "fruits"], ["fresh", "healthy", "apple", "organic"], ["food"]),
        concept("vegetables", ["vegetables", "vegetable"], ["healthy", "salad", "organic", "market"], ["food"], with: ["kitchen"]),
        concept("kitchen", ["kitchen", "cooking", "chef"], ["stove", "pan", "recipe", "home"], ["food", "indoor"], with: ["food"]),
        concept("student", ["student", "school", "classroom"], ["books", "learning", "education", "teacher"], ["people"]),
        concept("fire", ["fire", "flames", "campfire"], ["night", "warm", "wood", "burning"], ["nature"], with: ["beach", "night"]),
    ]

    static func query(_ tags: [String], _ acceptable: [String]..., note: String? = nil) -> Query {
        Query(tags: tags, acceptable: acceptable, note: note)
    }

    static let seaWords = ["ocean", "seascape", "waves", "surf", "coast", "shore", "beach", "sea"]
    static let beachWords = ["beach", "shore", "coast", "ocean", "seascape", "sand", "seaside"]
    static let kidWords = ["kids", "child", "boy", "girl"]
    static let sunsetWords = ["sunset", "golden hour", "evening", "dusk"]
    static let sunriseWords = ["sunrise", "dawn", "morning"]
    static let dogWords = ["dog", "puppy", "doggy"]
    static let cityWords = ["city", "urban", "cityscape", "skyline", "downtown", "skyscraper"]
    static let carWords = ["car", "vehicle", "cars", "auto"]
    static let planeWords = ["airplane", "aircraft", "plane"]
    static let coffeeWords = ["coffee", "espresso", "cafe", "latte"]
    static let laptopWords = ["laptop", "computer"]
    static let phoneWords = ["smartphone", "phone", "mobile phone"]
    static let mountainWords = ["mountain", "mountains", "peak"]
    static let fireWords = ["fire", "flames", "campfire", "burning"]

    /// Single words, then pairs. The first acceptable word of each list is the exact twin.
    public static let queries: [Query] = [
        query(["sea"], seaWords),
        query(["automobile"], carWords),
        query(["motorcar"], carWords),
        query(["youngster"], kidWords),
        query(["toddler"], kidWords + ["baby"]),
        query(["seaside"], beachWords),
        query(["seashore"], beachWords),
        query(["dusk"], sunsetWords, note: "WordNet: also night, one step narrower"),
        query(["twilight"], sunsetWords, note: "WordNet: also light and night"),
        query(["sundown"], sunsetWords),
        query(["daybreak"], sunriseWords),
        query(["sunup"], sunriseWords),
        query(["woods"], ["forest", "trees", "woodland", "woods"]),
        query(
            ["workplace"], ["office", "desk", "workspace", "coworkers", "colleagues", "meeting", "factory"],
            note: "WordNet: office is not a workplace; farm, shop and studio are"),
        query(["hound"], dogWords),
        query(["pooch"], dogWords),
        query(["canine"], dogWords, note: "WordNet: also a tooth, wolves and foxes"),
        query(["kitty"], ["cat", "kitten"], note: "WordNet: also a pool of money (pool)"),
        query(["metropolis"], cityWords),
        query(["town"], cityWords + ["village", "old town"], note: "WordNet: no city, hundreds of named towns"),
        query(["hamlet"], ["village", "countryside"], note: "WordNet: also Shakespeare's character"),
        query(["lorry"], ["truck"]),
        query(["aeroplane"], planeWords),
        query(["jet"], planeWords, note: "WordNet: also the colour jet black and ketamine (green)"),
        query(["railroad"], ["railway", "train", "tracks"]),
        query(["physician"], ["doctor", "medical", "hospital"]),
        query(["medic"], ["doctor", "medical", "nurse", "hospital"], note: "WordNet: also a clover (medick)"),
        query(["pupil"], ["student", "school", "classroom"], note: "WordNet: also the eye's aperture"),
        query(["schoolroom"], ["classroom", "school"]),
        query(["nuptials"], ["wedding", "bride", "groom", "marriage", "ceremony"]),
        query(["tempest"], ["storm", "thunderstorm", "lightning"]),
        query(["downpour"], ["rain", "raindrops", "thunderstorm"]),
        query(["blizzard"], ["snow", "snowfall", "winter"], note: "WordNet: a snowstorm, which the library does not say"),
        query(["supper"], ["dinner", "meal", "food"]),
        query(["produce"], ["vegetables", "vegetable", "fruit", "fruits"]),
        query(["veggies"], ["vegetables", "vegetable", "salad"], note: "WordNet: also greens (green)"),
        query(["groceries"], ["vegetables", "vegetable", "fruit", "fruits", "market", "shopping"]),
        query(["java"], coffeeWords, note: "WordNet: also an island and a programming language"),
        query(["notebook"], laptopWords, note: "WordNet: also a book"),
        query(["pc"], laptopWords),
        query(["cellphone"], phoneWords),
        query(["mobile"], phoneWords, note: "WordNet: Mobile is a city and a river in Alabama"),
        query(["bank"], ["money", "finance", "cash", "banknotes", "coins", "savings"], note: "WordNet: also a slope, a ridge"),
        query(["fall"], ["autumn", "autumn leaves", "foliage", "leaves"], note: "WordNet: also dusk, travel, and falls (waterfall)"),
        query(["summit"], mountainWords, note: "WordNet: also a summit meeting"),
        query(["hills"], mountainWords + ["countryside", "valley", "landscape"]),
        query(["gymnasium"], ["gym", "fitness", "workout"], note: "WordNet: also a secondary school"),
        query(["jogger"], ["running", "runner", "jogging"]),
        query(["guitarist"], ["guitar", "musician", "concert", "band", "music"]),
        query(["gig"], ["concert", "music", "band", "stage", "musician"], note: "WordNet: also a boat, a carriage, a spear"),
        query(["pub"], ["bar", "cocktail", "drinks", "bartender", "nightlife"]),
        query(["holiday"], ["vacation", "beach", "tropical", "island", "road trip"]),
        query(["lady"], ["woman"]),
        query(["gentleman"], ["man"]),
        query(["grandma"], ["grandmother", "elderly", "senior"]),
        query(["cattle"], ["cows"]),
        query(["pony"], ["horse", "horses"], note: "WordNet: also a small glass"),
        query(["boutique"], ["shop", "store", "shopping", "retail"]),
        query(["cottage"], ["house", "home", "village"]),
        query(["yard"], ["backyard", "garden"], note: "WordNet: also a field, a railway yard, a unit of length"),
        query(["chapel"], ["church", "cathedral"]),
        query(["reef"], ["coral", "underwater"]),
        query(
            ["cosmos"], ["stars", "galaxy", "milky way", "space", "astronomy", "night sky"],
            note: "WordNet: also a flower, and nature"),
        query(["mill"], ["factory", "industry", "industrial"], note: "WordNet: also a grinder"),
        query(["blaze"], fireWords),
        query(["bonfire"], fireWords),
        query(["cascade"], ["waterfall"]),
        query(["pitch"], ["football", "soccer", "stadium", "match"], note: "WordNet: also tar, a throw, a sound's height"),
        query(["seagull"], ["bird", "birds"]),
        query(["jam"], ["traffic", "rush hour"], note: "WordNet: also fruit preserves and a crowd"),
        query(["congestion"], ["traffic", "rush hour"]),
        query(["lovers"], ["couple", "love", "romance"]),
        query(["vessel"], ["boat", "sailboat", "yacht"], note: "WordNet: also cups, glasses, bottles"),
        query(["infirmary"], ["hospital", "doctor", "medical"]),
        query(["motorway"], ["highway", "road"]),
        query(["ranch"], ["farm", "agriculture", "cows"]),

        query(["sea", "sundown"], seaWords, sunsetWords),
        query(["seaside", "youngster"], beachWords, kidWords),
        query(["automobile", "metropolis"], carWords, cityWords),
        query(["java", "notebook"], coffeeWords, laptopWords),
        query(["lady", "cellphone"], ["woman"], phoneWords),
        query(["hound", "youngster"], dogWords, kidWords),
        query(["lovers", "dusk"], ["couple", "love", "romance"], sunsetWords),
        query(["summit", "daybreak"], mountainWords, sunriseWords),
        query(["woods", "fall"], ["forest", "trees", "woodland", "woods"], ["autumn", "autumn leaves", "foliage", "leaves"]),
        query(["toddler", "pooch"], kidWords + ["baby"], dogWords),
        query(["metropolis", "twilight"], cityWords, sunsetWords + ["night"]),
        query(["jet", "sky"], planeWords, ["sky", "clouds", "blue sky"]),
        query(["lorry", "motorway"], ["truck"], ["highway", "road"]),
        query(["pupil", "schoolroom"], ["student", "school"], ["classroom", "school"]),
        query(["physician", "infirmary"], ["doctor", "medical"], ["hospital"]),
        query(["cattle", "ranch"], ["cows"], ["farm", "agriculture"]),
        query(["pony", "ranch"], ["horse", "horses"], ["farm", "agriculture", "meadow"]),
        query(["grandma", "youngster"], ["grandmother", "elderly", "senior"], kidWords),
        query(["gentleman", "java"], ["man"], coffeeWords),
        query(["tempest", "sea"], ["storm", "thunderstorm", "lightning"], seaWords),
        query(["nuptials", "sundown"], ["wedding", "bride", "groom", "marriage"], sunsetWords),
        query(["bonfire", "seaside"], fireWords, beachWords),
    ]

    /// Every tag the library's assets may carry.
    public static var libraryTags: [String] {
        var seen: Set<String> = []
        return concepts.flatMap { $0.words + $0.context + $0.generic + $0.rare }.filter { seen.insert($0).inserted }
    }

    /// The tags of one asset of `concept`, 3 to 8, drawn as a provider tags: one or two of the
    /// concept's words (the first most often), one to three words of context, one or two generic
    /// tags; sometimes a companion concept's word or one of the rare words.
    public static func tags(of concept: Concept, using random: inout some RandomNumberGenerator) -> [String] {
        var tags: [String] = []
        func add(_ word: String) { if !tags.contains(word) { tags.append(word) } }
        func pick(_ words: [String], _ count: Int) {
            for word in words.shuffled(using: &random).prefix(count) { add(word) }
        }
        add(Double.random(in: 0..<1, using: &random) < 0.7 ? concept.words[0] : concept.words.randomElement(using: &random)!)
        if concept.words.count > 1, Bool.random(using: &random) { pick(concept.words, 1) }
        pick(concept.context, Int.random(in: 1...3, using: &random))
        pick(concept.generic, Int.random(in: 1...2, using: &random))
        if let companion = concept.companions.randomElement(using: &random), Double.random(in: 0..<1, using: &random) < 0.35,
            let other = concepts.first(where: { $0.name == companion })
        {
            add(other.words[0])
        }
        if !concept.rare.isEmpty, Double.random(in: 0..<1, using: &random) < 0.04 {
            add(concept.rare.randomElement(using: &random)!)
        }
        // A generic tag may be the concept's own word (`food`): at least three all the same.
        for word in concept.context where tags.count < 3 { add(word) }
        return Array(tags.prefix(8))
    }

    /// A concept drawn by weight.
    public static func drawConcept(using random: inout some RandomNumberGenerator) -> Concept {
        var left = Double.random(in: 0..<totalWeight, using: &random)
        for concept in concepts {
            left -= concept.weight
            if left < 0 { return concept }
        }
        return concepts[concepts.count - 1]
    }

    static let totalWeight = concepts.reduce(0) { $0 + $1.weight }

    /// Whether an asset with `tags` is an acceptable answer to `query`: for every query tag, one
    /// of its tags is that query tag or one of its acceptable words, in any of their forms.
    public static func accepts(_ query: Query, tags: [String]) -> Bool {
        query.tags.indices.allSatisfy { accepts(query, tag: $0, tags: tags) }
    }

    /// Whether one of `tags` answers query tag `index` of `query`.
    public static func accepts(_ query: Query, tag index: Int, tags: [String]) -> Bool {
        let wanted = Set(([query.tags[index]] + query.acceptable[index]).flatMap(TagForms.forms(of:)).map(TagFolding.fold))
        return tags.contains { tag in TagForms.forms(of: tag).contains { wanted.contains(TagFolding.fold($0)) } }
    }

    /// The same query in the library's own words: each tag's first acceptable word.
    public static func twin(of query: Query) -> [String] { query.acceptable.map { $0[0] } }
}
