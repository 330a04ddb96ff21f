import CFFmpeg

/// Which streams' decoders may skip unreferenced pictures (`skip_frame = AVDISCARD_NONREF`) without
/// changing any picture they still output.
///
/// Only where FFmpeg's NONREF test matches what the bitstream promises:
/// - H.264: slices with `nal_ref_idc == 0` are skipped; the standard forbids any picture to refer to them.
/// - HEVC: slices of the `_N` NAL unit types are skipped. Those are only unreferenced within their own
///   temporal sub-layer; a picture of a higher sub-layer may still refer to them. So only streams whose
///   sequence parameter sets declare a single sub-layer qualify.
///
/// Other decoders either ignore NONREF or give it their own meaning; they decode every picture.
enum UnreferencedPictures {
    static func canBeSkipped(codec: AVCodecID, extradata: [UInt8]) -> Bool {
        switch codec {
        case AV_CODEC_ID_H264: return true
        case AV_CODEC_ID_HEVC: return HEVCParameterSets.declareOneTemporalSubLayer(extradata)
        default: return false
        }
    }
}

/// Reads just enough of the HEVC parameter sets in a stream's extradata: the number of temporal sub-layers.
enum HEVCParameterSets {
    private static let sequenceParameterSetType: UInt8 = 33

    /// True when the extradata holds at least one sequence parameter set and each declares
    /// `sps_max_sub_layers_minus1 == 0`. Extradata is either an `hvcC` record (MP4, Matroska) or
    /// Annex B start-code NAL units (what libavformat extracts from MPEG-TS).
    static func declareOneTemporalSubLayer(_ extradata: [UInt8]) -> Bool {
        guard let units = isAnnexB(extradata) ? annexBUnits(extradata) : hvcCUnits(extradata) else { return false }
        let sequenceParameterSets = units.filter { $0.count >= 3 && ($0[$0.startIndex] >> 1) & 0x3F == sequenceParameterSetType }
        // After the 2-byte NAL header: sps_video_parameter_set_id (4 bits), sps_max_sub_layers_minus1 (3 bits),
        // sps_temporal_id_nesting_flag (1 bit). No emulation-prevention byte can occur this early.
        return !sequenceParameterSets.isEmpty
            && sequenceParameterSets.allSatisfy { ($0[$0.startIndex + 2] >> 1) & 0x07 == 0 }
    }

    /// libavcodec's own test: an `hvcC` record never starts with 00 00 00 or 00 00 01.
    private static func isAnnexB(_ bytes: [UInt8]) -> Bool {
        bytes.count > 3 && bytes[0] == 0 && bytes[1] == 0 && bytes[2] <= 1
    }

    /// The NAL units of an `hvcC` record (ISO/IEC 14496-15): 22 bytes of header fields, the number of
    /// arrays, then per array one type byte and a 16-bit count of 16-bit-length-prefixed units.
    private static func hvcCUnits(_ bytes: [UInt8]) -> [ArraySlice<UInt8>]? {
        guard bytes.count >= 23 else { return nil }
        var units: [ArraySlice<UInt8>] = []
        var index = 23
        for _ in 0..<Int(bytes[22]) {
            guard index + 3 <= bytes.count else { return nil }
            let count = Int(bytes[index + 1]) << 8 | Int(bytes[index + 2])
            index += 3
            for _ in 0..<count {
                guard index + 2 <= bytes.count else { return nil }
                let length = Int(bytes[index]) << 8 | Int(bytes[index + 1])
                index += 2
                guard index + length <= bytes.count else { return nil }
                units.append(bytes[index..<index + length])
                index += length
            }
        }
        return units
    }

    /// The NAL units between 00 00 01 start codes (a fourth leading zero belongs to the start code;
    /// trailing zeros are harmless here, only the first bytes of a unit are read).
    private static func annexBUnits(_ bytes: [UInt8]) -> [ArraySlice<UInt8>]? {
        var starts: [Int] = []
        var index = 0
        while index + 3 <= bytes.count {
            if bytes[index] == 0, bytes[index + 1] == 0, bytes[index + 2] == 1 {
                starts.append(index + 3)
                index += 3
            } else {
                index += 1
            }
        }
        return starts.indices.map { position in
            let end = position + 1 < starts.count ? starts[position + 1] - 3 : bytes.count
            return bytes[starts[position]..<max(starts[position], end)]
        }
    }
}
