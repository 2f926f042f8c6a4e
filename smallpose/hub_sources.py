"""What the dataset card says about each source: where it comes from, its terms, its citation.

Kept as data so the card, the licence file and the docs agree, and so a corrected URL or
licence is a one-line change. ``spdx`` is the Hub's licence id where the source's
annotation licence has one; ``None`` means the terms are the source's own (research
use), which makes the card's licence ``other`` and lists the terms in the body.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SourceInfo:
    title: str
    homepage: str
    spdx: str | None
    terms: str
    images: str
    bibtex: str


SOURCE_INFO: dict[str, SourceInfo] = {
    "coco": SourceInfo(
        title="COCO 2017 keypoints",
        homepage="https://cocodataset.org/",
        spdx="cc-by-4.0",
        terms="Annotations: Creative Commons Attribution 4.0 (CC BY 4.0). Images: Flickr terms of use; "
        "the COCO Consortium does not own their copyright.",
        images="https://cocodataset.org/#download (train2017.zip, val2017.zip)",
        bibtex="""@inproceedings{lin2014coco,
  title     = {Microsoft {COCO}: Common Objects in Context},
  author    = {Lin, Tsung-Yi and Maire, Michael and Belongie, Serge and Hays, James and Perona, Pietro and
               Ramanan, Deva and Doll{\\'a}r, Piotr and Zitnick, C. Lawrence},
  booktitle = {European Conference on Computer Vision (ECCV)},
  pages     = {740--755},
  year      = {2014}
}""",
    ),
    "mpii": SourceInfo(
        title="MPII Human Pose",
        homepage="http://human-pose.mpi-inf.mpg.de/",
        spdx="bsd-2-clause",
        terms="Annotations: Simplified BSD License (BSD-2-Clause), as published by the MPII Human Pose "
        "authors. Images are frames of YouTube videos and keep their owners' rights.",
        images="http://human-pose.mpi-inf.mpg.de/#download (mpii_human_pose_v1.tar.gz)",
        bibtex="""@inproceedings{andriluka14cvpr,
  title     = {2D Human Pose Estimation: New Benchmark and State of the Art Analysis},
  author    = {Andriluka, Mykhaylo and Pishchulin, Leonid and Gehler, Peter and Schiele, Bernt},
  booktitle = {IEEE Conference on Computer Vision and Pattern Recognition (CVPR)},
  pages     = {3686--3693},
  year      = {2014}
}""",
    ),
    "aic": SourceInfo(
        title="AI Challenger human keypoints",
        homepage="https://arxiv.org/abs/1711.06475",
        spdx=None,
        terms="Research use only (non-commercial), under the AI Challenger dataset terms; images and "
        "annotations may not be redistributed for commercial purposes.",
        images="the AI Challenger 2017 keypoint release (ai_challenger_keypoint_train/validation); "
        "the original site is offline, so use the copy your institution obtained under its terms",
        bibtex="""@article{wu2017aichallenger,
  title   = {{AI} Challenger: A Large-scale Dataset for Going Deeper in Image Understanding},
  author  = {Wu, Jiahong and Zheng, He and Zhao, Bo and Li, Yixin and Yan, Baoming and Liang, Rui and
             Wang, Wenjia and Zhou, Shipei and Lin, Guosen and Fu, Yanwei and others},
  journal = {arXiv preprint arXiv:1711.06475},
  year    = {2017}
}""",
    ),
    "posetrack": SourceInfo(
        title="PoseTrack 2018 / PoseTrack21",
        homepage="https://posetrack.net/",
        spdx=None,
        terms="Research use only (non-commercial), under the PoseTrack terms of use; the videos come "
        "from other datasets and keep their owners' rights.",
        images="https://github.com/anDoer/PoseTrack21 (download script; requires accepting the terms)",
        bibtex="""@inproceedings{andriluka2018posetrack,
  title     = {{PoseTrack}: A Benchmark for Human Pose Estimation and Tracking},
  author    = {Andriluka, Mykhaylo and Iqbal, Umar and Insafutdinov, Eldar and Pishchulin, Leonid and
               Milan, Anton and Gall, Juergen and Schiele, Bernt},
  booktitle = {IEEE Conference on Computer Vision and Pattern Recognition (CVPR)},
  pages     = {5167--5176},
  year      = {2018}
}""",
    ),
    "hieve": SourceInfo(
        title="Human in Events (HiEve)",
        homepage="http://humaninevents.org/",
        spdx=None,
        terms="Research use only (non-commercial), under the HiEve terms; registration required.",
        images="http://humaninevents.org/ (registration required)",
        bibtex="""@article{lin2020hieve,
  title   = {Human in Events: A Large-Scale Benchmark for Human-centric Video Analysis in Complex Events},
  author  = {Lin, Weiyao and Liu, Huabin and Liu, Shizhan and Li, Yuxi and Qian, Rui and Wang, Tao and
             Xu, Ning and Xiong, Hongkai and Qi, Guo-Jun and Sebe, Nicu},
  journal = {arXiv preprint arXiv:2005.04490},
  year    = {2020}
}""",
    ),
    "crowdpose": SourceInfo(
        title="CrowdPose",
        homepage="https://github.com/Jeff-sjtu/CrowdPose",
        spdx=None,
        terms="Research use, under the CrowdPose release terms; its images come from COCO, MPII and "
        "AI Challenger and keep those sources' terms.",
        images="https://github.com/Jeff-sjtu/CrowdPose (images link in its README)",
        bibtex="""@inproceedings{li2019crowdpose,
  title     = {{CrowdPose}: Efficient Crowded Scenes Pose Estimation and a New Benchmark},
  author    = {Li, Jiefeng and Wang, Can and Zhu, Hao and Mao, Yihuan and Fang, Hao-Shu and Lu, Cewu},
  booktitle = {IEEE/CVF Conference on Computer Vision and Pattern Recognition (CVPR)},
  pages     = {10863--10872},
  year      = {2019}
}""",
    ),
}

SMALLPOSE_BIBTEX = """@inproceedings{smallpose,
  title     = {{SmallPose}: A Large-Scale Benchmark for Small Human Pose Estimation},
  author    = {Anonymous},
  booktitle = {CVPR submission 9341},
  note      = {Anonymous CVPR submission; update with the published reference}
}"""


def source_info(source: str) -> SourceInfo:
    """Known sources by name; an unknown one (a custom converter) gets explicit 'unknown' terms
    rather than a guessed licence."""
    if source in SOURCE_INFO:
        return SOURCE_INFO[source]
    return SourceInfo(
        title=source,
        homepage="",
        spdx=None,
        terms="Unknown: check the terms of this source before using or redistributing it.",
        images="the original source",
        bibtex="",
    )
